"""Deterministic serialization of the named graphs, and atomic publication of `dist/`.

Byte-identical output under any PYTHONHASHSEED needs three things, since rdflib's memory store
keeps triples and graphs in hash-ordered sets:
- blank nodes get content-derived labels (`rdflib.compare` canonical labelling) at load time;
- N-Quads are rdflib's lines, sorted; TriG names its graphs in sorted order (`_SortedTrig`),
  and Turtle already sorts subjects, predicates and objects;
- JSON-LD is rdflib's document with its node list and value arrays sorted (never `@list`).

Publication: everything is written into `.dist-builds/<name>.tmp-<pid>/`, renamed to
`.dist-builds/<name>/`, and `dist` (a relative symlink) is swapped with `os.replace`. Until
that last call the old `dist` stays whole; after it the new one is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.plugins.serializers.trig import TrigSerializer

from graph.namespaces import PREFIXES

# File name → media type; the order is the order they are written and listed.
DUMPS = {
    "dcdr.trig": "application/trig",
    "dcdr.nq": "application/n-quads",
    "dcdr.ttl": "text/turtle",
    "dcdr.jsonld": "application/ld+json",
    "void.ttl": "text/turtle",
}
SUMS_FILE = "SHA256SUMS"
# The store's own files, checked by the server at start. Apart from SHA256SUMS, because the
# store's bytes differ between builds of the same sources (RocksDB names and logs), and the
# hash of SHA256SUMS names the dataset's version (ETags) which must not.
STORE_SUMS_FILE = "store.SHA256SUMS"
LOCK_FILE = ".lock"
STORE_DIR = "store"
TMP_MARK = ".tmp-"


class PublishError(Exception):
    """`dist` cannot be replaced (e.g. it is a real folder, not a link)."""


def prefixed_graph(identifier: URIRef | None = None) -> Graph:
    """An empty graph that knows exactly the project's prefixes (rdflib's defaults differ)."""
    graph = Graph(identifier=identifier, bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def canonical(graph: Graph) -> Graph:
    """The same graph with blank nodes relabelled from their content, so labels are stable."""
    result = prefixed_graph(graph.identifier if isinstance(graph.identifier, URIRef) else None)
    if any(isinstance(term, BNode) for triple in graph for term in triple):
        result += to_canonical_graph(graph)
    else:
        result += graph
    return result


def _dataset(graphs: Mapping[URIRef, Graph]) -> Dataset:
    dataset = Dataset()
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace, override=True, replace=True)
    for name in sorted(graphs):
        target = dataset.graph(name)
        for triple in sorted(graphs[name]):
            target.add(triple)
    return dataset


def nquads(graphs: Mapping[URIRef, Graph]) -> bytes:
    """Canonical N-Quads: rdflib's statements, one per line, sorted."""
    text = _dataset(graphs).serialize(format="nquads", encoding="utf-8").decode("utf-8")
    lines = sorted({line for line in text.splitlines() if line.strip()})
    return "".join(line + "\n" for line in lines).encode("utf-8")


def content_hash(graphs: Mapping[URIRef, Graph]) -> str:
    """sha256 over the canonical N-Quads of the given graphs."""
    return hashlib.sha256(nquads(graphs)).hexdigest()


class _SortedTrig(TrigSerializer):
    """rdflib's TriG with its graphs in IRI order (the store yields them in hash order)."""

    def __init__(self, store: Dataset) -> None:
        super().__init__(store)
        self.contexts.sort(key=lambda context: str(context.identifier))


def trig(graphs: Mapping[URIRef, Graph]) -> bytes:
    dataset = _dataset(graphs)
    stream = io.BytesIO()
    with warnings.catch_warnings():
        # rdflib's own TriG serializer still calls its deprecated `default_context`.
        warnings.simplefilter("ignore", DeprecationWarning)
        _SortedTrig(dataset).serialize(stream, encoding="utf-8")
    return stream.getvalue()


def union(graphs: Iterable[Graph]) -> Graph:
    merged = prefixed_graph()
    for graph in graphs:
        merged += graph
    return merged


def turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def _sorted_json(value: Any) -> Any:
    # Value arrays are unordered in JSON-LD, so sorting them changes nothing; @list is ordered.
    if isinstance(value, dict):
        return {
            key: (
                [_sorted_json(item) for item in inner]
                if key == "@list" and isinstance(inner, list)
                else _sorted_json(inner)
            )
            for key, inner in value.items()
        }
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(graph: Graph) -> bytes:
    context = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    document = json.loads(graph.serialize(format="json-ld", context=context))
    text = json.dumps(_sorted_json(document), ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def write_file(path: Path, data: bytes) -> None:
    """Writes and syncs one file, so a later rename never publishes a half-written one."""
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_store(path: Path, quads: bytes) -> int:
    """Loads the N-Quads into a fresh Oxigraph store at `path`; returns its quad count."""
    import pyoxigraph

    store = pyoxigraph.Store(str(path))
    store.bulk_load(quads, format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    count = len(store)
    # Dropping the last reference closes the store and releases its lock before the rename.
    del store
    return count


def sha256sums(folder: Path, names: Iterable[str]) -> bytes:
    """`sha256sum`-compatible lines for the named files."""
    lines = []
    for name in names:
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}\n")
    return "".join(lines).encode("utf-8")


def write_store_sums(folder: Path) -> None:
    """Records every file of `folder/store/` in `folder/store.SHA256SUMS` (paths relative to
    `folder`), for a build or a test that wrote the store itself. Call before SHA256SUMS."""
    store = folder / STORE_DIR
    names = sorted(
        path.relative_to(folder).as_posix() for path in store.rglob("*") if path.is_file()
    )
    write_file(folder / STORE_SUMS_FILE, sha256sums(folder, names))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_dist_replaceable(dist: Path) -> None:
    """Fails before any work if `dist` exists but is not a symlink this module can swap."""
    if dist.exists() and not dist.is_symlink():
        raise PublishError(
            f"{dist} exists and is not a symlink; move it away so builds can replace it atomically"
        )


def staging_dir(builds: Path, name: str) -> Path:
    """A fresh, private folder for one build's files."""
    builds.mkdir(parents=True, exist_ok=True)
    path = builds / f"{name}{TMP_MARK}{os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def hold_point(stage: str) -> None:
    """Test hook: with DCDR_BUILD_HOLD_AT=<stage>, announce the stage and wait to be killed.

    Lets a test SIGKILL a build at an exact point (after some files are written, or between
    the rename and the link swap) instead of guessing with delays.
    """
    if os.environ.get("DCDR_BUILD_HOLD_AT") != stage:
        return
    import time

    marker = os.environ.get("DCDR_BUILD_HOLD_FILE")
    if marker:
        Path(marker).write_text(stage, encoding="utf-8")
    while True:
        time.sleep(0.1)


def publish(staged: Path, dist: Path, name: str) -> Path:
    """Renames the staged build to its final name and points `dist` at it, atomically.

    Returns the final folder. Prunes every other build but this one and the one `dist`
    pointed at before (kept so a server still reading it is not pulled out from under).
    """
    check_dist_replaceable(dist)
    builds = staged.parent
    final = builds / name
    # Two builds may finish together: the lock keeps one's prune from removing the other's
    # freshly renamed folder before its link points there.
    with (builds / LOCK_FILE).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = dist.resolve() if dist.is_symlink() else None
        os.rename(staged, final)
        _fsync_dir(builds)
        hold_point("renamed")
        link = dist.parent / f".{dist.name}{TMP_MARK}{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.symlink(os.path.relpath(final, dist.parent), link)
        os.replace(link, dist)
        _fsync_dir(dist.parent)
        prune(builds, dist, keep={final.resolve(), *([previous] if previous else [])})
    return final


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune(builds: Path, dist: Path, keep: set[Path]) -> None:
    """Removes old builds and the leftovers of killed ones (never those of running builds)."""
    for entry in sorted(builds.iterdir()):
        if entry.resolve() in keep or entry.name == LOCK_FILE:
            continue
        if TMP_MARK in entry.name:
            pid = entry.name.rsplit(TMP_MARK, 1)[1]
            if pid.isdigit() and pid_alive(int(pid)):
                continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    for link in dist.parent.glob(f".{dist.name}{TMP_MARK}*"):
        pid = link.name.rsplit(TMP_MARK, 1)[1]
        if not (pid.isdigit() and pid_alive(int(pid))):
            link.unlink(missing_ok=True)


def write_dumps(
    folder: Path,
    graphs: Mapping[URIRef, Graph],
    meta: Graph,
    extra: Mapping[str, bytes] | None = None,
) -> dict[str, int]:
    """Writes every dump, the store, its sums and SHA256SUMS (last) into `folder`.

    `graphs` are all named graphs including `meta`; `meta` is also written alone as
    `void.ttl`. `extra` are further files (name → bytes, such as the figures table), written
    after the dumps and listed in SHA256SUMS too. Returns the size in bytes of each file
    written.
    """
    everything = union(graphs.values())
    outputs: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    quads = nquads(graphs)
    outputs["dcdr.trig"] = trig(graphs)
    outputs["dcdr.nq"] = quads
    outputs["dcdr.ttl"] = turtle(everything)
    outputs["dcdr.jsonld"] = jsonld(everything)
    outputs["void.ttl"] = turtle(meta)
    for name in DUMPS:
        write_file(folder / name, outputs[name])
        sizes[name] = len(outputs[name])
        if name == "dcdr.nq":
            hold_point("dumps")
    others = dict(sorted((extra or {}).items()))
    for name, data in others.items():
        write_file(folder / name, data)
        sizes[name] = len(data)
    write_store(folder / STORE_DIR, quads)
    write_store_sums(folder)
    write_file(folder / SUMS_FILE, sha256sums(folder, [*DUMPS, *others]))
    _fsync_dir(folder)
    return sizes

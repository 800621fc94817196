"""The embedded store: `dist/` served by Oxigraph (pyoxigraph), in process or in killable
worker processes.

Every process that answers opens the on-disk store written by `dcdr build` read-only, so all of
them share its pages through the OS cache; without `store/` each loads `dcdr.nq` into memory.
Answers are written by pyoxigraph's own serializers, and only bytes travel.

Under `dcdr serve` most queries are evaluated in the server's own worker process, watched by
`server.stores.runaway.Watchdog`; those that may compute a cartesian product, and those that ran
long before, go to the killable processes. Without a watchdog (the app built by `create_app` alone,
as in tests or `--dev`) every query goes to the killable processes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.config import Settings
from server.stores.executor import ProcessPool, WorkerFailed, WorkerTimeout
from server.stores.row_cap import capped_solutions
from server.stores.runaway import LARGE_QUERY_SECONDS, ShapeMemory, Watchdog
from server.stores.store import (
    DatasetSpec,
    NotAcceptable,
    QueryRefused,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
    StoreFailed,
    StoreUnavailable,
    analyze_query,
    syntax_message,
)

SUMS_FILE = "SHA256SUMS"
STORE_SUMS_FILE = "store.SHA256SUMS"
STORE_DIR = "store"
NQUADS_FILE = "dcdr.nq"


class DistError(Exception):
    """`dist/` cannot be served (missing, incomplete or corrupted); the message says why."""


@dataclass(frozen=True)
class DistInfo:
    """A verified build: where its store is and the content hash that names this version."""

    root: Path
    version: str
    store_path: Path | None
    nquads_path: Path | None


def check_dist(root: Path) -> DistInfo:
    """Verifies every dump listed in SHA256SUMS, and every file of the store listed in
    store.SHA256SUMS, before anything is served from `root` (resolved once: a rebuild swaps
    the `dist` link, and this server must go on reading the build it verified)."""
    root = root.resolve()
    if not root.is_dir():
        raise DistError(f"no built dataset at {root}: run `dcdr build` first (or set DCDR_DIST)")
    sums_path = root / SUMS_FILE
    if not sums_path.is_file():
        raise DistError(f"{sums_path} is missing: the build in {root} is incomplete")
    sums_text = sums_path.read_bytes()
    _verify(root, sums_path, sums_text)
    store_path = root / STORE_DIR
    nquads_path = root / NQUADS_FILE
    if store_path.is_dir():
        store_sums = root / STORE_SUMS_FILE
        if not store_sums.is_file():
            raise DistError(
                f"{store_sums} is missing: the store in {root} cannot be verified "
                "(rebuild with `dcdr build`)"
            )
        _verify(root, store_sums, store_sums.read_bytes())
    elif not nquads_path.is_file():
        raise DistError(f"{root} holds neither {STORE_DIR}/ nor {NQUADS_FILE}: nothing to serve")
    return DistInfo(
        root=root,
        version=hashlib.sha256(sums_text).hexdigest()[:16],
        store_path=store_path if store_path.is_dir() else None,
        nquads_path=nquads_path if nquads_path.is_file() else None,
    )


def _verify(root: Path, sums_path: Path, sums_text: bytes) -> None:
    entries = read_sums(sums_path, sums_text.decode("utf-8", errors="replace"))
    for digest, name in entries:
        path = root / name
        if not path.is_file():
            raise DistError(f"{path} is listed in {sums_path.name} but missing")
        if _sha256(path) != digest:
            raise DistError(
                f"{path} is corrupted or truncated: its SHA-256 differs from {sums_path.name}"
            )


def read_sums(path: Path, text: str) -> list[tuple[str, str]]:
    """(SHA-256, file name) of each line of a `sha256sum` list; `DistError` names a bad line."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DistError(f"{path}, line {number}: expected '<sha256>  <file>'")
        name = parts[1].strip().lstrip("*")
        if name.startswith("/") or ".." in Path(name).parts:
            raise DistError(f"{path}, line {number}: {name!r} is outside the build folder")
        entries.append((parts[0].lower(), name))
    if not entries:
        raise DistError(f"{path} lists no files")
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- inside a worker process -------------------------------------------------------------


@dataclass
class _WorkerState:
    store: ox.Store
    prefixes: dict[str, str]


def open_worker_store(
    store_path: str | None, nquads_path: str | None, prefixes: dict[str, str]
) -> _WorkerState:
    """Runs once in each worker process."""
    if store_path is not None:
        store = ox.Store.read_only(store_path)
    else:
        store = ox.Store()
        store.bulk_load(path=nquads_path, format=ox.RdfFormat.N_QUADS)
    return _WorkerState(store, prefixes)


# A job: (query, default graphs | None, named graphs | None, solutions media type, graph media
# type, row limit, whether the answer may exceed the limit, whether the default graph is the
# union of the named graphs, base IRI or "").
Job = tuple[str, tuple[str, ...] | None, tuple[str, ...] | None, str, str, int, bool, bool, str]


def answer_job(state: _WorkerState, job: Job) -> tuple[Any, ...]:
    """Runs one query; the answer is ("ok", body, media type, count, truncated) or an error."""
    (
        text,
        default_graphs,
        named_graphs,
        solutions_type,
        graph_type,
        limit,
        may_exceed,
        union,
        base_iri,
    ) = job
    # The default prefixes go to the parser, so the text (and every error position) stays the
    # user's, and a PREFIX the query declares wins (server/stores/default_prefixes.py).
    options: dict[str, Any] = {"base_iri": base_iri or None, "prefixes": state.prefixes}
    if default_graphs is None and named_graphs is None:
        # Oxigraph lets the union flag win over FROM, so a query with FROM goes without it.
        options["use_default_graph_as_union"] = union
    else:
        options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs or ()]
        options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs or ()]
    try:
        result = state.store.query(text, **options)
        if isinstance(result, ox.QueryTriples):
            return _graph_answer(state, result, graph_type, limit)
        if not solutions_type:
            return ("not-acceptable", "SELECT/ASK")
        results_format = ox.QueryResultsFormat.from_media_type(solutions_type)
        if results_format is None:
            return ("not-acceptable", "SELECT/ASK")
        if isinstance(result, ox.QueryBoolean):
            return ("ok", result.serialize(format=results_format), solutions_type, 1, False)
        if not may_exceed:
            return ("ok", result.serialize(format=results_format), solutions_type, -1, False)
        body, count, truncated = capped_solutions(result, results_format, limit)
        return ("ok", body, solutions_type, count, truncated)
    except SyntaxError as error:
        return ("syntax", str(error))
    except RuntimeError as error:
        # pyoxigraph's evaluation errors: something the query itself asks for and Oxigraph
        # cannot do (an unknown function, a wrong number of arguments). Storage faults come
        # as OSError instead, so this is the client's error: 400, naming what Oxigraph said.
        return ("refused", str(error))
    except (OSError, ValueError, TypeError) as error:
        return ("error", str(error))


def _graph_answer(
    state: _WorkerState, triples: ox.QueryTriples, graph_type: str, limit: int
) -> tuple[Any, ...]:
    if not graph_type:
        return ("not-acceptable", "CONSTRUCT/DESCRIBE")
    rdf_format = ox.RdfFormat.from_media_type(graph_type)
    if rdf_format is None:
        return ("not-acceptable", "CONSTRUCT/DESCRIBE")
    kept = list(islice(triples, limit + 1))
    truncated = len(kept) > limit
    del kept[limit:]
    prefixes = state.prefixes if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    body = ox.serialize(kept, format=rdf_format, prefixes=prefixes)
    return ("ok", body or b"", graph_type, len(kept), truncated)


def answer_isolated_job(state: _WorkerState, job: Job) -> tuple[Any, ...]:
    """`answer_job` in a killable process, which gives back what a large query freed (a
    cartesian product can take hundreds of MB, which the process would otherwise keep)."""
    started = time.monotonic()
    answer = answer_job(state, job)
    if time.monotonic() - started >= LARGE_QUERY_SECONDS:
        release_free_memory()
    return answer


def release_free_memory() -> None:
    """Gives the C allocator's free memory back to the system (glibc's malloc_trim).

    pyoxigraph allocates through the C allocator, which keeps what a query freed in per-thread
    arenas: at 1M triples a worker held about 70 MB more after the competency queries than
    after a trim (docs/scale.md). Without glibc this does nothing.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


# ---- in the server process ---------------------------------------------------------------


class OxigraphStore:
    """`QueryStore` over a verified `dist/`: queries run in a pool of killable processes, or,
    once `evaluate_in_process` is called, in this process when they look cheap."""

    def __init__(self, settings: Settings, info: DistInfo, prefixes: dict[str, str]) -> None:
        self.settings = settings
        self.info = info
        self._worker_args = (
            str(info.store_path) if info.store_path else None,
            str(info.nquads_path) if info.store_path is None and info.nquads_path else None,
            prefixes,
        )
        self.pool = ProcessPool(
            settings.pool_size,
            open_worker_store,
            self._worker_args,
            answer_isolated_job,
            # "__main__" once in the fork server, so that forked workers need not import it.
            preload=("__main__", "server.stores.oxigraph_store"),
        )
        # Made here, before the server forks its workers, so that all of them share it.
        self.isolated_shapes = ShapeMemory()
        self._local: _WorkerState | None = None
        self._watchdog: Watchdog | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OxigraphStore:
        from graph.namespaces import QUERY_PREFIXES

        return cls(settings, check_dist(settings.dist), dict(QUERY_PREFIXES))

    @property
    def version(self) -> str:
        return self.info.version

    def start(self) -> None:
        self.pool.start()

    def evaluate_in_process(self, on_runaway: Callable[[], None]) -> None:
        """From now on, queries that look cheap run in this process, watched; `on_runaway` is
        called once if one of them will not stop (it should have this process replaced)."""
        self._local = open_worker_store(*self._worker_args)
        self._watchdog = Watchdog(
            self.isolated_shapes,
            on_runaway,
            slow_after=self.pool.slow_after,
            release_memory=release_free_memory,
        )

    def close(self) -> None:
        self.pool.close()

    def query(
        self,
        text: str,
        dataset: DatasetSpec,
        media_type: str,
        timeout: float,
        *,
        graph_media_type: str = "",
        base_iri: str | None = None,
    ) -> QueryResult:
        plan = analyze_query(text, self.settings.service_allowlist)
        if plan.form in ("select", "ask") and not media_type:
            raise NotAcceptable("no acceptable media type for SELECT/ASK results")
        if plan.form in ("construct", "describe") and not graph_media_type:
            raise NotAcceptable("no acceptable media type for an RDF graph")
        limit = self.settings.row_limit
        may_exceed = plan.form in ("select", "") and (plan.limit is None or plan.limit > limit)
        job: Job = (
            text,
            None if dataset.is_default else dataset.default_graphs,
            None if dataset.is_default else dataset.named_graphs,
            media_type,
            graph_media_type,
            limit,
            may_exceed,
            not plan.has_dataset_clause,
            base_iri or "",
        )
        seconds = min(timeout, self.settings.timeout)
        if self._in_process(plan.disconnected, plan.shape):
            answer = self._run_here(job, plan.shape, seconds)
        else:
            answer = self._run_isolated(job, plan.shape, seconds)
        status = answer[0]
        if status == "ok":
            _, body, media, count, truncated = answer
            return QueryResult(body=body, media_type=media, count=count, truncated=truncated)
        if status == "syntax":
            raise QuerySyntaxError(syntax_message(answer[1], text))
        if status == "refused":
            raise QueryRefused(f"the query cannot be evaluated here: {answer[1]}")
        if status == "not-acceptable":
            raise NotAcceptable(f"no acceptable media type for the answer of a {answer[1]} query")
        raise StoreFailed(f"the store could not answer: {answer[1]}")

    def _in_process(self, disconnected: bool, shape: str) -> bool:
        return self._local is not None and not disconnected and shape not in self.isolated_shapes

    def _run_here(self, job: Job, shape: str, seconds: float) -> tuple[Any, ...]:
        assert self._local is not None and self._watchdog is not None
        started = time.monotonic()
        with self._watchdog.watch(shape, seconds):
            answer = answer_job(self._local, job)
        if time.monotonic() - started > seconds:
            raise QueryTimeout(f"the query ran longer than {seconds:g} s and was stopped")
        return answer

    def _run_isolated(self, job: Job, shape: str, seconds: float) -> tuple[Any, ...]:
        started = time.monotonic()
        try:
            answer = self.pool.run(job, seconds)
        except WorkerTimeout as error:
            raise QueryTimeout(str(error)) from None
        except WorkerFailed as error:
            raise StoreUnavailable(str(error)) from None
        if time.monotonic() - started < self.pool.slow_after and shape in self.isolated_shapes:
            # A query sent here because it ran long once (under load, say) comes back home
            # once it runs fast.
            self.isolated_shapes.forget(shape)
        return answer

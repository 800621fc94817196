"""Blue/green publishing: `dcdr publish --to URL` makes a new build visible all at once, or not
at all; `dcdr publish --to URL --rollback` goes back to the build before.

Design (the why is at the top of server/stores/live_version.py): one store swap is not atomic
on Virtuoso, so each build is written once under graph IRIs of its own,
`https://w3id.org/dcdr/graph/build/{version}/{name}`, streamed in bounded batches
(graph/publish_stream.py) and counted; only then is the pointer graph rewritten by one SPARQL
Update (`live` := the new version, `previous` := the old live one). Serving apps read the
pointer (every DCDR_STORE_REFRESH_SECONDS) and answer under the contract's names from the live
build. A publish that fails before the pointer moves leaves the live build untouched. The live
and the previous builds are kept (rollback swaps them); older builds are deleted after the swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox

from graph.publish import (
    _VIRTUOSO_PATHS,
    GraphCount,
    GspTarget,
    GspWriter,
    PublishError,
    counted,
    dist_version,
    require_dump,
    send_stream,
)
from graph.publish_stream import BATCH_TRIPLES, Rename
from server.stores.live_version import (
    BUILD_NAMESPACE,
    LIVE,
    POINTER,
    PREVIOUS,
    BuildNames,
    Pointer,
    read_pointer,
)
from server.stores.remote_store import SELECT_JSON
from server.stores.store import StoreUnavailable


@dataclass(frozen=True)
class Published:
    """What a publish did: the live build now, the one before, the counts checked."""

    version: str
    previous: str | None
    counts: list[GraphCount]
    switched: bool


def update_url(target: GspTarget) -> str:
    """The store's SPARQL Update endpoint, derived from its Graph Store endpoint."""
    parts = urlsplit(target.store_url)
    path = parts.path.rstrip("/")
    if path.endswith(_VIRTUOSO_PATHS):
        path = path.rsplit("/", 1)[0] + "/sparql-auth"
    elif path.endswith("/store"):
        path = path[: -len("store")] + "update"
    elif path.endswith("/data"):
        path = path[: -len("data")] + "update"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def renamer(names: BuildNames) -> Rename:
    """Maps IRIs under the graph namespace in the data (the meta graph names the graphs) to
    the build's, so that the app's mapping of query text and answers stays one-to-one."""

    def rename(triple: ox.Triple) -> ox.Triple:
        subject, predicate, target = triple.subject, triple.predicate, triple.object
        if isinstance(subject, ox.NamedNode):
            subject = ox.NamedNode(names.graph(subject.value))
        if isinstance(target, ox.NamedNode):
            target = ox.NamedNode(names.graph(target.value))
        return ox.Triple(subject, ox.NamedNode(names.graph(predicate.value)), target)

    return rename


class BlueGreen:
    """The builds in one store, and its pointer."""

    def __init__(
        self, to: str, auth: tuple[str, str] | None = None, query_url: str | None = None
    ) -> None:
        self.target = GspTarget.from_url(to, query_url)
        self.auth = auth
        self.writer = GspWriter(self.target, auth)
        self.update_url = update_url(self.target)

    def pointer(self) -> Pointer:
        try:
            return read_pointer(self.writer.session, self.target.query_url, 60.0)
        except StoreUnavailable as error:
            raise PublishError(str(error)) from None

    def builds(self) -> dict[str, list[str]]:
        """The builds the store holds: version → its graph IRIs."""
        text = (
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?g), "{BUILD_NAMESPACE}")) }}'
        )
        answer = self.writer.request(
            "POST",
            self.target.query_url,
            data={"query": text},
            headers={"Accept": SELECT_JSON},
        )
        if answer.status_code >= 300:
            raise PublishError(f"listing the builds answered {answer.status_code}")
        found: dict[str, list[str]] = {}
        for row in answer.json()["results"]["bindings"]:
            graph = row["g"]["value"]
            version = graph[len(BUILD_NAMESPACE) :].split("/", 1)[0]
            found.setdefault(version, []).append(graph)
        return found

    def drop(self, graphs: list[str]) -> None:
        for graph in sorted(graphs):
            self.writer.send("DELETE", graph)

    def load(self, dist: Path, version: str, batch_triples: int) -> list[GraphCount]:
        """Writes the dist as build `version` (after deleting what a failed run left of it)."""
        names = BuildNames(version)
        self.drop(self.builds().get(version, []))
        sent = send_stream(self.writer, dist, batch_triples, renamer(names), names.graph)
        return counted(self.target, self.auth, sent, names.graph)

    def point(self, live: str, previous: str | None) -> None:
        """Moves the pointer in one SPARQL Update request."""
        facts = f'<{POINTER}> <{LIVE}> "{live}" .'
        if previous is not None:
            facts += f' <{POINTER}> <{PREVIOUS}> "{previous}" .'
        update = (
            f"DELETE {{ GRAPH <{POINTER}> {{ ?s ?p ?o }} }} "
            f"WHERE {{ GRAPH <{POINTER}> {{ ?s ?p ?o }} }} ; "
            f"INSERT DATA {{ GRAPH <{POINTER}> {{ {facts} }} }}"
        )
        answer = self.writer.request("POST", self.update_url, data={"update": update})
        if answer.status_code >= 300:
            excerpt = answer.text[:400].strip()
            raise PublishError(f"moving the pointer answered {answer.status_code}: {excerpt}")
        if self.pointer() != Pointer(live, previous):
            raise PublishError(f"the pointer at {self.target.query_url} did not move")

    def prune(self, keep: set[str]) -> None:
        for version, graphs in self.builds().items():
            if version not in keep:
                self.drop(graphs)


def publish_blue_green(
    dist: Path,
    to: str,
    auth: tuple[str, str] | None = None,
    query_url: str | None = None,
    batch_triples: int = BATCH_TRIPLES,
) -> Published:
    """Loads `dist` as a new build beside the live one, then makes it live in one step."""
    store = BlueGreen(to, auth, query_url)
    require_dump(dist)
    version = dist_version(dist)
    before = store.pointer()
    if before.live == version:
        names = BuildNames(version)
        sent = {g: c.expected for g, c in _expected(store, dist, version).items()}
        counts = counted(store.target, auth, sent, names.graph)
        return Published(version, before.previous, counts, switched=False)
    counts = store.load(dist, version, batch_triples)
    if not all(c.ok for c in counts):
        return Published(version, before.live, counts, switched=False)
    store.point(version, before.live)
    store.prune({version, *([before.live] if before.live else [])})
    return Published(version, before.live, counts, switched=True)


def _expected(store: BlueGreen, dist: Path, version: str) -> dict[str, GraphCount]:
    """Counts of a dist already live, read from the dump without sending it."""
    from graph.publish_stream import GraphTally, stream_batches

    tally = GraphTally()
    for _ in stream_batches(dist, tally):
        pass
    return {g: GraphCount(g, n, n) for g, n in tally.counts.items()}


def rollback(to: str, auth: tuple[str, str] | None = None, query_url: str | None = None) -> str:
    """Makes the previous build live again (and the live one previous); returns its version."""
    store = BlueGreen(to, auth, query_url)
    pointer = store.pointer()
    if pointer.live is None or pointer.previous is None:
        raise PublishError("the store keeps no previous build to roll back to")
    if pointer.previous not in store.builds():
        raise PublishError(f"build {pointer.previous} is no longer in the store")
    store.point(pointer.previous, pointer.live)
    return pointer.previous

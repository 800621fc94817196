"""Blue/green builds in a remote store: which build is live, and a `QueryStore` that answers
from that build alone under the contract's graph names.

Why not swap the contract graphs in the store: measured here, Virtuoso 7.2 shows readers a
half-done swap even when the swap is one SPARQL Update request (`DROP; ADD` or `DELETE … ;
INSERT …`, with `DEFINE sql:log-enable 1` and `DefaultIsolation = 2`: a count of a 60,000-
triple graph polled during the swap read 60,000 triples of which 12,000 – 52,000 were the new
build's). So `dcdr publish` (graph/publish_blue_green.py) writes each build once under graph
IRIs of its own, never changed afterwards,

    https://w3id.org/dcdr/graph/facts  →  https://w3id.org/dcdr/graph/build/{version}/facts

and the only thing that changes at a publish is the pointer: graph `POINTER`, holding
`POINTER live "version"` and `POINTER previous "version"`, rewritten by one small update. A
reader that sees no live triple (Virtuoso between the delete and the insert) keeps the build it
had. The app maps the contract names onto the live build's graphs both ways: in the query text,
in the dataset it names and in the answer's bytes (`BuildNames`). The pointer lies outside the
graph namespace, so a sealed query never sees it (server/stores/sealing.py).

`LiveBuildStore` reads the pointer at most every `refresh_seconds`, in a thread of its own; on a
change it answers from the new build, reports the new version (every ETag and cache key holds
it) and calls its listeners (the server's replay cache is dropped). A store without a pointer
(published into the contract graphs by another tool) is served as before: contract graphs, the
version given or fingerprinted.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests

from graph.namespaces import BASE, GRAPH
from server.stores.remote_store import SELECT_JSON, RemoteSparqlStore
from server.stores.store import (
    DatasetSpec,
    QueryResult,
    QueryTimeout,
    StoreError,
    StoreFailed,
    StoreUnavailable,
)

GRAPH_NAMESPACE = str(GRAPH)
BUILD_NAMESPACE = GRAPH_NAMESPACE + "build/"
PUBLISH_NAMESPACE = BASE + "publish/"
POINTER = PUBLISH_NAMESPACE + "pointer"
LIVE = PUBLISH_NAMESPACE + "live"
PREVIOUS = PUBLISH_NAMESPACE + "previous"
POINTER_QUERY = (
    f"SELECT ?role ?version WHERE {{ GRAPH <{POINTER}> {{ <{POINTER}> ?role ?version }} }}"
)
# How often a serving process reads the pointer (DCDR_STORE_REFRESH_SECONDS).
REFRESH_SECONDS = 5.0
_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def valid_version(version: str) -> bool:
    """A version may become part of an IRI: letters, digits, `.`, `_`, `-`."""
    return bool(_VERSION.match(version))


@dataclass(frozen=True)
class Pointer:
    """The live build and the one before it (None where the store has none)."""

    live: str | None
    previous: str | None


def read_pointer(session: requests.Session, query_url: str, timeout: float = 10.0) -> Pointer:
    """The pointer as the store holds it now; `StoreUnavailable` if it cannot be read."""
    try:
        answer = session.post(
            query_url,
            data={"query": POINTER_QUERY},
            headers={"Accept": SELECT_JSON},
            timeout=(min(5.0, timeout), timeout),
        )
        if answer.status_code >= 400:
            # The store answered, and refused (a wrong password, say): an error of the store,
            # not a store that is down.
            excerpt = answer.text[:300].strip()
            raise StoreFailed(
                f"{query_url} answered {answer.status_code} for the live build: {excerpt}"
            )
        rows = answer.json()["results"]["bindings"]
    except requests.Timeout:
        raise QueryTimeout(
            f"{query_url} did not tell the live build within {timeout:g} s"
        ) from None
    except (requests.RequestException, ValueError, KeyError) as error:
        raise StoreUnavailable(f"cannot reach {query_url} for the live build: {error}") from None
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["role"]["value"], set()).add(row["version"]["value"])
    return Pointer(_one(found.get(LIVE)), _one(found.get(PREVIOUS)))


def _one(values: set[str] | None) -> str | None:
    # Zero or several values: the pointer is being rewritten (or broken); no answer.
    if not values or len(values) != 1:
        return None
    (value,) = values
    return value if valid_version(value) else None


@dataclass(frozen=True)
class BuildNames:
    """The contract's graph names ⇄ one build's graph names."""

    version: str

    @property
    def prefix(self) -> str:
        return f"{BUILD_NAMESPACE}{self.version}/"

    def graph(self, contract: str) -> str:
        """A contract graph IRI as this build stores it (others unchanged)."""
        if contract.startswith(GRAPH_NAMESPACE):
            return self.prefix + contract[len(GRAPH_NAMESPACE) :]
        return contract

    def query_text(self, text: str) -> str:
        # Every IRI written out in full or as a PREFIX / BASE under the graph namespace.
        return text.replace("<" + GRAPH_NAMESPACE, "<" + self.prefix)

    def dataset(self, dataset: DatasetSpec) -> DatasetSpec:
        return DatasetSpec(
            tuple(self.graph(g) for g in dataset.default_graphs),
            tuple(self.graph(g) for g in dataset.named_graphs),
        )

    def answer(self, body: bytes) -> bytes:
        """The store's answer with the build's names back as the contract's."""
        return body.replace(self.prefix.encode(), GRAPH_NAMESPACE.encode())


Listener = Callable[[str], None]


class LiveBuildStore:
    """`QueryStore` answering from the remote store's live build (see the module's doc)."""

    def __init__(
        self,
        make_remote: Callable[[str | None, tuple[str, ...] | None], RemoteSparqlStore],
        query_url: str,
        *,
        pinned: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self._make_remote = make_remote
        self.query_url = query_url
        self.pinned = pinned
        self.refresh_seconds = refresh_seconds
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        # (names, store) of the build served, replaced as one value so that a query never
        # pairs one build's names with another build's graphs.
        self._live: tuple[BuildNames | None, RemoteSparqlStore] | None = None
        self._listeners: list[Listener] = []
        self._watcher: threading.Thread | None = None
        self._stopped = threading.Event()

    def on_change(self, listener: Listener) -> None:
        """Calls `listener(new_version)` whenever the live build changes."""
        self._listeners.append(listener)

    # -- QueryStore ----------------------------------------------------------------------

    @property
    def version(self) -> str:
        if self.pinned is not None:  # DCDR_STORE_VERSION: known without asking the store
            return self.pinned
        return self._current()[1].version

    @property
    def known_version(self) -> str | None:
        if self.pinned is not None:
            return self.pinned
        live = self._live
        if live is None:
            return None
        names, remote = live
        return names.version if names is not None else remote.known_version

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
        names, remote = self._current(timeout)
        if names is None:
            return remote.query(
                text,
                dataset,
                media_type,
                timeout,
                graph_media_type=graph_media_type,
                base_iri=base_iri,
            )
        result = remote.query(
            names.query_text(text),
            names.dataset(dataset),
            media_type,
            timeout,
            graph_media_type=graph_media_type,
            base_iri=base_iri,
        )
        return dataclasses.replace(result, body=names.answer(result.body))

    # -- the pointer -----------------------------------------------------------------------

    def _current(self, timeout: float = 10.0) -> tuple[BuildNames | None, RemoteSparqlStore]:
        live = self._live
        if live is None:
            with self._lock:
                if self._live is None:
                    self._refresh(read_pointer(self._session, self.query_url, timeout))
                    self._start_watching()
            live = self._live
            assert live is not None
        return live

    def refresh(self) -> bool:
        """Reads the pointer now; True when the live build changed."""
        pointer = read_pointer(self._session, self.query_url)
        with self._lock:
            return self._refresh(pointer)

    def _refresh(self, pointer: Pointer) -> bool:
        wanted = pointer.live
        if self.pinned is not None:
            kept = (pointer.live, pointer.previous)
            wanted = self.pinned if self.pinned in kept else None
        if wanted is None and self._live is not None:
            return False  # no pointer at the moment (being rewritten): keep the build served
        current = self._live[0] if self._live is not None else None
        if self._live is not None and wanted == (current.version if current else None):
            return False
        if wanted is None:
            # No blue/green builds: the contract graphs, as published in place.
            self._live = None, self._make_remote(self.pinned, None)
        else:
            names = BuildNames(wanted)
            graphs = tuple(names.graph(GRAPH_NAMESPACE + n) for n in self._graph_names(wanted))
            self._live = names, self._make_remote(wanted, graphs)
        for listener in self._listeners:
            listener(self.version_now())
        return True

    def version_now(self) -> str:
        assert self._live is not None
        names, remote = self._live
        return names.version if names is not None else remote.version

    def _graph_names(self, version: str) -> list[str]:
        """The build's graphs (by their contract names' last segment)."""
        prefix = BuildNames(version).prefix
        text = (
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        )
        try:
            answer = self._session.post(
                self.query_url,
                data={"query": text},
                headers={"Accept": SELECT_JSON},
                timeout=(5.0, 60.0),
            )
            answer.raise_for_status()
            rows = json.loads(answer.content)["results"]["bindings"]
        except (requests.RequestException, ValueError, KeyError) as error:
            raise StoreUnavailable(f"cannot list build {version}'s graphs: {error}") from None
        return sorted(row["g"]["value"][len(prefix) :] for row in rows)

    def _start_watching(self) -> None:
        if self._watcher is not None or self.refresh_seconds <= 0:
            return
        self._watcher = threading.Thread(target=self._watch, name="dcdr-live-build", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopped.wait(self.refresh_seconds):
            try:
                self.refresh()
            except StoreError:
                continue  # the store is down: /readyz says so; the build served stays

    def close(self) -> None:
        self._stopped.set()

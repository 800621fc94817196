"""`dcdr publish --to URL`: loads a built `dist/` into a SPARQL store through the SPARQL 1.1
Graph Store Protocol, blue/green, streamed.

Design. A new build becomes visible to clients all at once, or not at all:

1. the dump (`dcdr.nq`) is streamed in batches of at most 20,000 triples per request
   (graph/publish_stream.py; memory does not grow with the data) into graph IRIs of the new
   build's own, `https://w3id.org/dcdr/graph/build/{version}/{name}`, beside the live build;
2. every graph is counted in the store against the dump; on a mismatch the live build stays;
3. one SPARQL Update rewrites the pointer graph `https://w3id.org/dcdr/publish/pointer`
   (`live` = the new version, `previous` = the one live before);
4. builds other than the live and the previous one are deleted.

Serving apps read the pointer every DCDR_STORE_REFRESH_SECONDS and answer from the live build
under the contract's graph names (server/stores/live_version.py: why not a swap inside the
store, measured on Virtuoso). `--rollback` points back at the previous build
(graph/publish_blue_green.py). The target URL is the store's Graph Store endpoint: Oxigraph
server `http://HOST:PORT/store`, Virtuoso `http://HOST:PORT/sparql-graph-crud-auth` (digest
auth); the query endpoint is derived from it, or given with `query_url`, and so is the update
endpoint (`/update`, Virtuoso's `/sparql-auth`).

`publish()` here loads into the contract's graph names in place instead (not atomic): for a
store no app reads meanwhile, as the tests' and benches' fixtures are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from graph.graph_documents import turtle_document
from graph.namespaces import GRAPH
from graph.paths import dist_dir
from graph.publish_stream import (
    BATCH_TRIPLES,
    GraphTally,
    Rename,
    StreamError,
    dump_path,
    stream_batches,
)
from server.stores.remote_store import SELECT_JSON, RemoteSparqlStore
from server.stores.store import DatasetSpec, StoreError

CHUNK_TRIPLES = BATCH_TRIPLES  # the name older callers use
_VIRTUOSO_PATHS = ("/sparql-graph-crud-auth", "/sparql-graph-crud")
_TIMEOUT = 300.0


class PublishError(Exception):
    """Publishing failed; the message says where and why."""


@dataclass(frozen=True)
class GraphCount:
    """Triples of one named graph in the dist and in the store after publishing."""

    graph: str
    expected: int
    found: int

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True)
class GspTarget:
    """Where graphs are written and where they are counted."""

    store_url: str
    graph_param: str
    query_url: str

    @classmethod
    def from_url(cls, url: str, query_url: str | None = None) -> GspTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PublishError(
                f"--to must be an http(s) URL of a Graph Store endpoint, got {url!r}"
            )
        path = parts.path.rstrip("/")
        if path.endswith(_VIRTUOSO_PATHS):
            graph_param, derived = "graph-uri", path.rsplit("/", 1)[0] + "/sparql"
        elif path.endswith("/store"):
            graph_param, derived = "graph", path[: -len("store")] + "query"
        elif path.endswith("/data"):
            graph_param, derived = "graph", path[: -len("data")] + "sparql"
        else:
            graph_param, derived = "graph", path
        derived_url = urlunsplit((parts.scheme, parts.netloc, derived, "", ""))
        return cls(url, graph_param, query_url or derived_url)


def dist_version(dist: Path) -> str:
    """The dist's version as the embedded server names it (sha256 of SHA256SUMS, 16 digits),
    so that ETags read the same whether replicas serve the dist or the store."""
    for name in ("SHA256SUMS", "dcdr.trig", "dcdr.nq"):
        if (dist / name).is_file():
            digest = hashlib.sha256()
            with (dist / name).open("rb") as source:  # a dump may be large: read in blocks
                for block in iter(lambda: source.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()[:16]
    raise PublishError(f"{dist} holds no SHA256SUMS, dcdr.trig or dcdr.nq; run `dcdr build`")


def read_graphs(dist: Path) -> dict[str, list[ox.Triple]]:
    """The dist's triples by named graph, whole in memory: for tests and small dists only (the
    publisher streams, graph/publish_stream.py)."""
    graphs: dict[str, set[ox.Triple]] = {}
    try:
        for batch in stream_batches(dist, GraphTally()):
            graphs.setdefault(batch.graph, set()).update(batch.triples)
    except StreamError as error:
        raise PublishError(str(error)) from None
    return {name: sorted(triples, key=str) for name, triples in sorted(graphs.items())}


class GspWriter:
    """Sends graph documents with basic auth, or digest where the store asks for it."""

    def __init__(self, target: GspTarget, auth: tuple[str, str] | None) -> None:
        self.target = target
        self.session = requests.Session()
        self.auth: AuthBase | None = None
        self.auth_pair = auth
        if auth is not None:
            digest = urlsplit(target.store_url).path.rstrip("/").endswith(_VIRTUOSO_PATHS)
            self.auth = HTTPDigestAuth(*auth) if digest else HTTPBasicAuth(*auth)

    def send(self, method: str, graph: str, body: bytes = b"") -> None:
        """PUT / POST a graph document, or DELETE a graph (a graph already gone is no error)."""
        response = self.request(
            method,
            self.target.store_url,
            params={self.target.graph_param: graph},
            data=body,
            headers={"Content-Type": "text/turtle; charset=utf-8"},
        )
        if method == "DELETE" and response.status_code == 404:
            return
        if response.status_code >= 300:
            excerpt = response.text[:400].strip()
            raise PublishError(f"{method} <{graph}> answered {response.status_code}: {excerpt}")

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request to the store, with the credentials it asks for."""
        response = self._request(method, url, kwargs)
        if response.status_code == 401 and isinstance(self.auth, HTTPBasicAuth):
            # Virtuoso wants digest and, offered basic, answers 401 without a challenge.
            assert self.auth_pair is not None
            self.auth = HTTPDigestAuth(*self.auth_pair)
            response = self._request(method, url, kwargs)
        if response.status_code == 401:
            raise PublishError(f"{url} asks for credentials: give --auth user:pass")
        return response

    def _request(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        try:
            return self.session.request(
                method, url, auth=self.auth, timeout=(10.0, _TIMEOUT), **kwargs
            )
        except requests.RequestException as error:
            raise PublishError(f"cannot reach {url}: {error}") from None


def count_graph(store: RemoteSparqlStore, graph: str) -> int:
    """Triples the store holds in one named graph."""
    text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    result = store.query(text, DatasetSpec(), SELECT_JSON, _TIMEOUT)
    rows = json.loads(result.body)["results"]["bindings"]
    return int(rows[0]["n"]["value"]) if rows else 0


def send_stream(
    writer: GspWriter,
    dist: Path,
    batch_triples: int,
    rename: Rename | None = None,
    graph_name: Callable[[str], str] = str,
) -> dict[str, int]:
    """Streams the dist's graphs to the store in batches (POST adds to a graph); returns the
    triples sent per graph."""
    tally = GraphTally()
    try:
        for batch in stream_batches(dist, tally, batch_triples, rename):
            # Integers stay integers in Virtuoso: graph/graph_documents.py.
            writer.send("POST", graph_name(batch.graph), turtle_document(batch.triples))
    except StreamError as error:
        raise PublishError(str(error)) from None
    return tally.counts


def counted(
    target: GspTarget,
    auth: tuple[str, str] | None,
    sent: dict[str, int],
    graph_name: Callable[[str], str] = str,
) -> list[GraphCount]:
    """What the store holds of each graph sent, against what was sent."""
    reader = RemoteSparqlStore(target.query_url, "publish", union="native", auth=auth)
    try:
        return [
            GraphCount(g, n, count_graph(reader, graph_name(g))) for g, n in sorted(sent.items())
        ]
    except StoreError as error:
        raise PublishError(f"counting at {target.query_url} failed: {error}") from None


def publish(
    dist: Path,
    to: str,
    auth: tuple[str, str] | None = None,
    query_url: str | None = None,
    chunk_triples: int = BATCH_TRIPLES,
) -> list[GraphCount]:
    """Writes every named graph of `dist` into the contract's graphs of the store at `to`, in
    place (not atomic: for a store nobody reads meanwhile, e.g. the tests' and benches'), then
    counts them there. `dcdr publish` itself is blue/green (graph/publish_blue_green.py)."""
    target = GspTarget.from_url(to, query_url)
    writer = GspWriter(target, auth)
    require_dump(dist)  # no dump: the store is left as it is
    for graph in _graphs_in(target, auth):
        writer.send("DELETE", graph)
    sent = send_stream(writer, dist, chunk_triples)
    return counted(target, auth, sent)


def require_dump(dist: Path) -> tuple[Path, ox.RdfFormat]:
    """The dump to stream, or `PublishError`."""
    try:
        return dump_path(dist)
    except StreamError as error:
        raise PublishError(str(error)) from None


def _graphs_in(target: GspTarget, auth: tuple[str, str] | None) -> list[str]:
    """The contract graphs the store holds now (replaced whole by an in-place publish)."""
    reader = RemoteSparqlStore(target.query_url, "publish", union="native", auth=auth)
    text = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    try:
        rows = json.loads(reader.query(text, DatasetSpec(), SELECT_JSON, _TIMEOUT).body)
    except StoreError as error:
        raise PublishError(f"listing the graphs at {target.query_url} failed: {error}") from None
    found = (row["g"]["value"] for row in rows["results"]["bindings"])
    builds = str(GRAPH) + "build/"
    return sorted(g for g in found if g.startswith(str(GRAPH)) and not g.startswith(builds))


def _parse_auth(auth: str | None) -> tuple[str, str] | None:
    if auth is None:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user:
        raise PublishError("--auth must be user:password")
    return user, password


def main(
    to: str,
    auth: str | None = None,
    dist: str | Path | None = None,
    query_url: str | None = None,
    rollback: bool = False,
) -> int:
    """`dcdr publish --to URL [--auth user:pass] [--dist PATH] [--rollback]`: blue/green (see
    graph/publish_blue_green.py); returns the exit status."""
    from graph.publish_blue_green import publish_blue_green
    from graph.publish_blue_green import rollback as roll_back

    folder = Path(dist) if dist is not None else dist_dir()
    try:
        if rollback:
            version = roll_back(to, _parse_auth(auth), query_url)
            print(f"rolled back: build {version} is live again")
            return 0
        done = publish_blue_green(folder, to, _parse_auth(auth), query_url)
    except (PublishError, OSError) as error:
        print(f"dcdr publish: {error}", file=sys.stderr)
        return 1
    counts = done.counts
    width = max(len(c.graph) for c in counts) if counts else 0
    for c in counts:
        mark = "ok" if c.ok else f"MISMATCH (store has {c.found})"
        print(f"{c.graph:<{width}}  {c.expected:>9}  {mark}")
    bad = [c for c in counts if not c.ok]
    if bad:
        print(
            f"dcdr publish: {len(bad)} graph(s) differ from the dist; build {done.version} was "
            f"not made live (still live: {done.previous or 'nothing'})",
            file=sys.stderr,
        )
        return 1
    total = sum(c.expected for c in counts)
    if done.switched:
        print(f"build {done.version} is live: {total} triples (previous: {done.previous})")
    else:
        print(f"build {done.version} was already live: {total} triples")
    target = GspTarget.from_url(to, query_url)
    print(f"serve it with DCDR_STORE=sparql:{target.query_url} (the app follows the live build)")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    """`python -m graph.publish`, the same options as `dcdr publish`."""
    parser = argparse.ArgumentParser(prog="dcdr publish", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return main(args.to, args.auth, args.dist, args.query_url, args.rollback)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`dcdr publish`'s options (shared with graph/cli.py)."""
    parser.add_argument("--to", required=True, help="Graph Store Protocol endpoint URL")
    parser.add_argument("--auth", help="user:password for the store")
    parser.add_argument("--dist", help="built dist folder (default: dist/)")
    parser.add_argument("--query-url", help="SPARQL query endpoint (default: derived)")
    parser.add_argument(
        "--rollback", action="store_true", help="make the previous build live again"
    )


if __name__ == "__main__":
    sys.exit(cli())

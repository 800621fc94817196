"""`dcdr publish --to URL`: loads a built `dist/` into a SPARQL store through the SPARQL 1.1
Graph Store Protocol, one named graph at a time, then checks that the store holds as many
triples in each graph as the dist.

PUT replaces a graph, so publishing the same dist twice leaves the store as after once. The
target URL is the store's Graph Store endpoint: Oxigraph server `http://HOST:PORT/store`,
Virtuoso `http://HOST:PORT/sparql-graph-crud-auth` (digest auth), Fuseki
`http://HOST:PORT/DATASET/data`. The query endpoint used for the check is derived from it, or
given with `query_url`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from graph.graph_documents import turtle_document
from graph.paths import dist_dir
from server.stores.remote_store import SELECT_JSON, RemoteSparqlStore
from server.stores.store import DatasetSpec, StoreError

# A graph without blank nodes is sent in slices of this many triples (PUT, then POSTs), so that
# stores with a request size limit take large graphs; blank nodes must stay in one document.
CHUNK_TRIPLES = 200_000
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
    sums = dist / "SHA256SUMS"
    source = sums if sums.is_file() else dist / "dcdr.trig"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def read_graphs(dist: Path) -> dict[str, list[ox.Triple]]:
    """The dist's triples by named graph (from `dcdr.trig`, else `dcdr.nq`)."""
    candidates = (("dcdr.trig", ox.RdfFormat.TRIG), ("dcdr.nq", ox.RdfFormat.N_QUADS))
    found = [(dist / name, fmt) for name, fmt in candidates if (dist / name).is_file()]
    if not found:
        raise PublishError(f"{dist} holds neither dcdr.trig nor dcdr.nq; run `dcdr build` first")
    path, rdf_format = found[0]
    graphs: dict[str, set[ox.Triple]] = {}
    try:
        for quad in ox.parse(path=path, format=rdf_format):
            if not isinstance(quad.graph_name, ox.NamedNode):
                raise PublishError(f"{path}: a triple lies outside every named graph: {quad}")
            graphs.setdefault(quad.graph_name.value, set()).add(quad.triple)
    except SyntaxError as error:
        raise PublishError(f"{path} does not parse: {error}") from None
    return {name: sorted(triples, key=str) for name, triples in sorted(graphs.items())}


def _has_blank_node(triples: Sequence[ox.Triple]) -> bool:
    return any(
        isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples
    )


class _Writer:
    """Sends graph documents with basic auth, or digest where the store asks for it."""

    def __init__(self, target: GspTarget, auth: tuple[str, str] | None) -> None:
        self.target = target
        self.session = requests.Session()
        self.auth: AuthBase | None = None
        if auth is not None:
            self.auth_pair = auth
            digest = urlsplit(target.store_url).path.rstrip("/").endswith(_VIRTUOSO_PATHS)
            self.auth = HTTPDigestAuth(*auth) if digest else HTTPBasicAuth(*auth)

    def send(self, method: str, graph: str, triples: Sequence[ox.Triple]) -> None:
        body = turtle_document(triples)  # integers kept integers in Virtuoso
        response = self._request(method, graph, body)
        if response.status_code == 401 and isinstance(self.auth, HTTPBasicAuth):
            # Virtuoso wants digest and, offered basic, answers 401 without a challenge.
            self.auth = HTTPDigestAuth(*self.auth_pair)
            response = self._request(method, graph, body)
        if response.status_code == 401:
            raise PublishError(
                f"{self.target.store_url} asks for credentials: give --auth user:pass"
            )
        if response.status_code >= 300:
            excerpt = response.text[:400].strip()
            raise PublishError(f"{method} <{graph}> answered {response.status_code}: {excerpt}")

    def _request(self, method: str, graph: str, body: bytes) -> requests.Response:
        try:
            return self.session.request(
                method,
                self.target.store_url,
                params={self.target.graph_param: graph},
                # N-Triples is Turtle too, and every Graph Store takes text/turtle.
                data=body,
                headers={"Content-Type": "text/turtle; charset=utf-8"},
                auth=self.auth,
                timeout=(10.0, _TIMEOUT),
            )
        except requests.RequestException as error:
            raise PublishError(f"cannot reach {self.target.store_url}: {error}") from None


def count_graph(store: RemoteSparqlStore, graph: str) -> int:
    """Triples the store holds in one named graph."""
    text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    result = store.query(text, DatasetSpec(), SELECT_JSON, _TIMEOUT)
    rows = json.loads(result.body)["results"]["bindings"]
    return int(rows[0]["n"]["value"]) if rows else 0


def publish(
    dist: Path,
    to: str,
    auth: tuple[str, str] | None = None,
    query_url: str | None = None,
    chunk_triples: int = CHUNK_TRIPLES,
) -> list[GraphCount]:
    """Writes every named graph of `dist` to the store at `to`, then counts them there."""
    target = GspTarget.from_url(to, query_url)
    graphs = read_graphs(dist)
    writer = _Writer(target, auth)
    for graph, triples in graphs.items():
        if _has_blank_node(triples) or len(triples) <= chunk_triples:
            writer.send("PUT", graph, triples)
            continue
        writer.send("PUT", graph, triples[:chunk_triples])
        for start in range(chunk_triples, len(triples), chunk_triples):
            writer.send("POST", graph, triples[start : start + chunk_triples])
    reader = RemoteSparqlStore(target.query_url, "publish", union="native", auth=auth)
    try:
        return [GraphCount(g, len(t), count_graph(reader, g)) for g, t in graphs.items()]
    except StoreError as error:
        raise PublishError(f"counting at {target.query_url} failed: {error}") from None


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
) -> int:
    """`dcdr publish --to URL [--auth user:pass] [--dist PATH]`; returns the exit status."""
    folder = Path(dist) if dist is not None else dist_dir()
    try:
        counts = publish(folder, to, _parse_auth(auth), query_url)
        version = dist_version(folder)
    except (PublishError, OSError) as error:
        print(f"dcdr publish: {error}", file=sys.stderr)
        return 1
    width = max(len(c.graph) for c in counts) if counts else 0
    for c in counts:
        mark = "ok" if c.ok else f"MISMATCH (store has {c.found})"
        print(f"{c.graph:<{width}}  {c.expected:>9}  {mark}")
    bad = [c for c in counts if not c.ok]
    if bad:
        print(f"dcdr publish: {len(bad)} graph(s) differ from the dist", file=sys.stderr)
        return 1
    target = GspTarget.from_url(to, query_url)
    print(f"published dist version {version}: {sum(c.expected for c in counts)} triples")
    print(f"serve it with DCDR_STORE=sparql:{target.query_url} DCDR_STORE_VERSION={version}")
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    """`python -m graph.publish`, the same options as `dcdr publish`."""
    parser = argparse.ArgumentParser(prog="dcdr publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", required=True, help="Graph Store Protocol endpoint URL")
    parser.add_argument("--auth", help="user:password for the store")
    parser.add_argument("--dist", help="built dist folder (default: dist/)")
    parser.add_argument("--query-url", help="SPARQL query endpoint (default: derived)")
    args = parser.parse_args(argv)
    return main(args.to, args.auth, args.dist, args.query_url)


if __name__ == "__main__":
    sys.exit(cli())

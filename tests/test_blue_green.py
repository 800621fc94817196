"""Blue/green publishing against a real Oxigraph server and a real Virtuoso: polled ten times a
second through the app and directly while two builds are published in turn, no answer mixes
two builds or shows one half-loaded; the app then reports the new version, answers an old ETag
with 200 and the new ETag, and a rollback brings the previous answers back."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from flask import Flask
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDFS

from graph.namespaces import GRAPH, ID, graph_iri
from graph.publish import dist_version
from graph.publish_blue_green import Published, publish_blue_green, rollback
from server import create_app
from server.stores.live_version import BUILD_NAMESPACE, LIVE, POINTER, read_pointer
from tests.test_remote_store import fixture_dataset, oxigraph_server, write_dist

JSON = "application/sparql-results+json"
MARKER = ID["build-marker"]
GRAPH_NAMESPACE = str(GRAPH)
COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
DIRECT = (
    f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH <{POINTER}> {{ <{POINTER}> <{LIVE}> ?v }} "
    f'GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), CONCAT("{BUILD_NAMESPACE}", ?v, "/"))) }} '
    "GROUP BY ?g"
)
VIRTUOSO_AUTH = ("dba", "dba")


@dataclass(frozen=True)
class Target:
    gsp_url: str
    query_url: str
    auth: tuple[str, str] | None


@contextmanager
def oxigraph(tmp: Path) -> Iterator[Target]:
    with oxigraph_server(tmp / "oxigraph") as base:
        yield Target(f"{base}/store", f"{base}/query", None)


@contextmanager
def virtuoso(tmp: Path) -> Iterator[Target]:
    if shutil.which("virtuoso-t") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("virtuoso-opensource must be installed in CI (.ci/system-deps)")
        pytest.skip("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import peers  # bench/peers.py: the Virtuoso recipe shared with the benchmarks
    finally:
        sys.path.pop(0)
    workdir = tmp / "virtuoso"
    workdir.mkdir()
    with peers.virtuoso(workdir) as server:
        assert server.store_url is not None
        yield Target(server.store_url, server.sparql_url, VIRTUOSO_AUTH)


def build(tmp: Path, name: str, observations: int) -> tuple[Path, dict[str, int]]:
    """A dist carrying its own marker, and its triples per graph."""
    dataset: Dataset = fixture_dataset(observations)
    dataset.graph(URIRef(str(graph_iri("facts")))).add((MARKER, RDFS.label, Literal(name)))
    counts = {str(g.identifier): len(g) for g in dataset.graphs() if len(g)}
    return write_dist(tmp / name, dataset), counts


def counts_of(document: dict[str, object]) -> dict[str, int]:
    rows = document["results"]["bindings"]  # type: ignore[index]
    found: dict[str, int] = {}
    for row in rows:
        graph = row["g"]["value"]
        if graph.startswith(BUILD_NAMESPACE):  # a direct answer names the build's graphs
            graph = GRAPH_NAMESPACE + graph[len(BUILD_NAMESPACE) :].split("/", 1)[1]
        found[graph] = int(row["n"]["value"])
    return found


@dataclass
class Poller:
    """Ten polls a second through the app and directly, each answer kept."""

    app: Flask
    target: Target
    seen: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = self.app.test_client()
        session = requests.Session()
        while not self.stop.wait(0.1):
            answer = client.get("/sparql", query_string={"query": COUNTS}, headers={"Accept": JSON})
            if answer.status_code == 200:
                self.seen.append(("app", counts_of(answer.get_json())))
            else:
                self.failures.append(f"app {answer.status_code}")
            direct = session.post(
                self.target.query_url, data={"query": DIRECT}, headers={"Accept": JSON}
            )
            if direct.status_code == 200:
                found = counts_of(direct.json())
                if found:  # empty: Virtuoso between the pointer's delete and insert
                    self.seen.append(("direct", found))
            else:
                self.failures.append(f"direct {direct.status_code}")


def wait_for(app: Flask, version: str) -> dict[str, object]:
    client = app.test_client()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ready = client.get("/readyz").get_json()
        if ready.get("version") == version:
            return dict(ready)
        time.sleep(0.1)
    raise AssertionError(f"the app did not report version {version}")


@pytest.mark.parametrize("store", [oxigraph, virtuoso], ids=["oxigraph", "virtuoso"])
def test_publishes_are_seen_whole_and_rollback_restores(tmp_path: Path, store: object) -> None:
    # Sizes and batches with which the in-place publisher showed 9 – 12 mixed answers in about
    # 30 polls on both stores: each publish spans tens of requests.
    blue, blue_counts = build(tmp_path, "blue", 400)
    green, green_counts = build(tmp_path, "green", 600)
    versions = {dist_version(blue): blue_counts, dist_version(green): green_counts}
    with store(tmp_path) as target:  # type: ignore[operator]

        def publish(dist: Path) -> Published:
            return publish_blue_green(dist, target.gsp_url, target.auth, batch_triples=100)

        assert publish(blue).switched
        settings = {"store": "sparql:" + target.query_url, "store_refresh_seconds": 0.2}
        app = create_app({**settings, "access_log": False})
        client = app.test_client()
        before = client.get("/sparql", query_string={"query": COUNTS}, headers={"Accept": JSON})
        poller = Poller(app, target)
        thread = threading.Thread(target=poller.run)
        thread.start()
        try:
            for dist in (green, blue, green):
                done = publish(dist)
                assert done.switched and all(c.ok for c in done.counts)
                wait_for(app, done.version)
                time.sleep(0.5)
        finally:
            poller.stop.set()
            thread.join()
        mixed = [(where, c) for where, c in poller.seen if c not in versions.values()]
        assert not mixed and not poller.failures
        # Enough answers from both sides that a half-done publish had its chance to show.
        assert min(sum(w == where for w, _ in poller.seen) for where in ("app", "direct")) >= 10
        assert {str(sorted(c.items())) for _, c in poller.seen} == {
            str(sorted(c.items())) for c in versions.values()
        }
        # The app moved to green: an ETag of blue is not confirmed.
        old_etag = before.headers["ETag"]
        after = client.get(
            "/sparql",
            query_string={"query": COUNTS},
            headers={"Accept": JSON, "If-None-Match": old_etag},
        )
        assert (after.status_code, counts_of(after.get_json())) == (200, green_counts)
        assert after.headers["ETag"] != old_etag
        metrics = client.get("/metrics").get_data(as_text=True)
        assert f'dcdr_graph_version_info{{version="{dist_version(green)}"}} 1.0' in metrics
        assert f'dcdr_graph_version_info{{version="{dist_version(blue)}"}} 1.0' not in metrics
        # Rolling back: blue is live again, answers and version with it.
        assert rollback(target.gsp_url, target.auth) == dist_version(blue)
        wait_for(app, dist_version(blue))
        again = client.get("/sparql", query_string={"query": COUNTS}, headers={"Accept": JSON})
        assert counts_of(again.get_json()) == blue_counts
        pointer = read_pointer(requests.Session(), target.query_url)
        assert (pointer.live, pointer.previous) == (dist_version(blue), dist_version(green))
        app.extensions["dcdr"].store.close()  # its pointer watcher, before the store stops

"""`dcdr publish`: the dist's named graphs land in an Oxigraph server through the Graph Store
Protocol, whole (blank nodes included), idempotently, and bad input gives a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from graph.namespaces import graph_iri
from graph.publish import GspTarget, PublishError, main, publish, read_graphs
from tests.test_remote_store import fixture_dataset, oxigraph_server, write_dist


@pytest.fixture
def store_base(tmp_path: Path) -> Iterator[str]:
    with oxigraph_server(tmp_path / "oxigraph") as base:
        yield base


def remote_graph(base: str, graph: str) -> Graph:
    answer = requests.get(
        f"{base}/store", params={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    answer.raise_for_status()
    return Graph().parse(data=answer.text, format="nt")


def test_every_graph_arrives_whole(tmp_path: Path, store_base: str) -> None:
    dataset = fixture_dataset()
    dist = write_dist(tmp_path / "dist", dataset)
    counts = publish(dist, f"{store_base}/store")
    assert {c.graph for c in counts} == {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert all(c.ok for c in counts)
    for graph in dataset.graphs():
        if len(graph):
            assert isomorphic(remote_graph(store_base, str(graph.identifier)), graph)


def test_publishing_twice_changes_nothing(tmp_path: Path, store_base: str) -> None:
    dist = write_dist(tmp_path / "dist", fixture_dataset())
    first = publish(dist, f"{store_base}/store")
    second = publish(dist, f"{store_base}/store")
    assert first == second


def test_a_new_dist_replaces_the_old_graphs(tmp_path: Path, store_base: str) -> None:
    publish(write_dist(tmp_path / "big", fixture_dataset(9)), f"{store_base}/store")
    smaller = fixture_dataset(3)
    counts = publish(write_dist(tmp_path / "small", smaller), f"{store_base}/store")
    facts = str(graph_iri("facts"))
    expected = len(smaller.graph(URIRef(facts)))
    assert [c.found for c in counts if c.graph == facts] == [expected]


def test_large_graphs_go_in_slices(tmp_path: Path, store_base: str) -> None:
    dataset = fixture_dataset(20)
    dist = write_dist(tmp_path / "dist", dataset)
    counts = publish(dist, f"{store_base}/store", chunk_triples=7)
    assert all(c.ok for c in counts)
    facts = dataset.graph(URIRef(str(graph_iri("facts"))))
    assert isomorphic(remote_graph(store_base, str(graph_iri("facts"))), facts)


def test_read_graphs_falls_back_to_nquads(tmp_path: Path) -> None:
    dist = write_dist(tmp_path / "dist", fixture_dataset())
    from_trig = read_graphs(dist)
    (dist / "dcdr.trig").unlink()
    assert read_graphs(dist) == from_trig


def test_triples_outside_named_graphs_are_refused(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "dcdr.nq").write_text("<urn:a> <urn:b> <urn:c> .\n")
    with pytest.raises(PublishError, match="outside every named graph"):
        read_graphs(dist)


def test_main_reports_and_succeeds(
    tmp_path: Path, store_base: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = write_dist(tmp_path / "dist", fixture_dataset())
    assert main(f"{store_base}/store", dist=dist) == 0
    out = capsys.readouterr().out
    assert f"DCDR_STORE=sparql:{store_base}/query" in out
    assert str(graph_iri("facts")) in out


@pytest.mark.parametrize(
    ("to", "auth", "message"),
    [
        ("not a url", None, "http(s) URL"),
        ("http://127.0.0.1:9/store", None, "cannot reach"),
        ("http://127.0.0.1:9/store", "nopassword", "user:password"),
    ],
)
def test_main_explains_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to: str, auth: str | None, message: str
) -> None:
    dist = write_dist(tmp_path / "dist", fixture_dataset())
    assert main(to, auth, dist) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_main_without_a_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main("http://127.0.0.1:9/store", dist=tmp_path) == 1
    assert "dcdr build" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "param", "query"),
    [
        ("http://h:7878/store", "graph", "http://h:7878/query"),
        ("http://h:8890/sparql-graph-crud-auth", "graph-uri", "http://h:8890/sparql"),
        ("http://h:3030/ds/data", "graph", "http://h:3030/ds/sparql"),
    ],
)
def test_query_endpoint_is_derived(url: str, param: str, query: str) -> None:
    target = GspTarget.from_url(url)
    assert (target.graph_param, target.query_url) == (param, query)


def test_store_content_matches_the_dist_as_a_dataset(tmp_path: Path, store_base: str) -> None:
    dataset = fixture_dataset()
    dist = write_dist(tmp_path / "dist", dataset)
    publish(dist, f"{store_base}/store")
    answer = requests.get(f"{store_base}/store", headers={"Accept": "application/n-quads"})
    remote = Dataset().parse(data=answer.text, format="nquads")
    local = Dataset().parse(dist / "dcdr.nq", format="nquads")
    for graph in local.graphs():
        if len(graph):
            assert isomorphic(remote.graph(graph.identifier), graph)


def test_rollback_without_a_previous_build_explains(
    tmp_path: Path, store_base: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(f"{store_base}/store", dist=write_dist(tmp_path / "d", fixture_dataset())) == 0
    assert main(f"{store_base}/store", rollback=True) == 1
    assert "no previous build to roll back to" in capsys.readouterr().err

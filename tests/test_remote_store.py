"""The remote-store backend against a real Oxigraph server (pip's `oxigraph` binary) and, where
installed (always in CI), Virtuoso from Debian: a fixture dist is published through the Graph
Store Protocol and every answer must equal the embedded store's, compared as sets of rows."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from graph.namespaces import DCDR, ID, NIF, SH, graph_iri
from graph.publish import publish
from server.stores.remote_store import RemoteSparqlStore, query_has_dataset_clause
from server.stores.store import (
    DatasetSpec,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
    UpdateRefused,
)

JSON = "application/sparql-results+json"
UNION = DatasetSpec()
FACTS = str(graph_iri("facts"))
TEXT = str(graph_iri("text"))
OXIGRAPH = Path(sys.executable).parent / "oxigraph"

# Queries of the kinds the competency queries use: labels, aggregates, GRAPH, FROM, numbers.
QUERIES = {
    "labels": "SELECT ?x ?l WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "sum": (
        "PREFIX dcdr: <https://w3id.org/dcdr/ontology#> "
        "SELECT ?m (SUM(?v) AS ?total) (COUNT(*) AS ?n) "
        "WHERE { ?o dcdr:metric ?m ; dcdr:value ?v } GROUP BY ?m"
    ),
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "from": f"SELECT ?s ?p ?o FROM <{TEXT}> WHERE {{ ?s ?p ?o }}",
    "blank": f"SELECT ?shape ?path WHERE {{ ?shape <{SH.property}> [ <{SH.path}> ?path ] }}",
    "ask": "ASK { ?s a <https://w3id.org/dcdr/ontology#Observation> }",
    "filter": (
        "SELECT ?o ?v WHERE { ?o <https://w3id.org/dcdr/ontology#value> ?v "
        "FILTER(?v > 100) } ORDER BY DESC(?v)"
    ),
}


def fixture_dataset(observations: int = 5) -> Dataset:
    """A small dataset of the real graph's shape: text, facts, shapes (blank nodes), numbers."""
    dataset = Dataset()
    text = dataset.graph(URIRef(TEXT))
    facts = dataset.graph(URIRef(FACTS))
    shapes = dataset.graph(URIRef(str(graph_iri("shapes"))))
    context = ID["context/fixture"]
    text.add((context, RDF.type, NIF.Context))
    text.add((context, NIF.isString, Literal("截至2020年底,平台收到留言总数超1000万条。")))
    for n in range(observations):
        sentence = ID[f"sentence/fx-{n:02d}"]
        text.add((sentence, RDF.type, NIF.Sentence))
        text.add((sentence, NIF.anchorOf, Literal(f"第{n}句。", lang="zh")))
        # xsd:integer: Oxigraph stores xsd:nonNegativeInteger as xsd:integer.
        text.add((sentence, NIF.beginIndex, Literal(n * 4)))
        observation = ID[f"observation/fx-{n}"]
        facts.add((observation, RDF.type, DCDR.Observation))
        facts.add((observation, DCDR.metric, ID[f"metric/m{n % 2}"]))
        value = Literal(Decimal(n * 37) / 2) if n % 2 else Literal(10**n)
        facts.add((observation, DCDR.value, value))
        facts.add((observation, RDFS.label, Literal(f"观测{n}", lang="zh")))
        facts.add((observation, RDFS.label, Literal(f"observation {n}", lang="en")))
    for n in range(2):
        shape, prop = ID[f"shape/s{n}"], BNode()
        shapes.add((shape, RDF.type, SH.NodeShape))
        shapes.add((shape, SH.property, prop))
        shapes.add((prop, SH.path, DCDR[f"p{n}"]))
        shapes.add((prop, SH.minCount, Literal(1)))
    return dataset


def write_dist(folder: Path, dataset: Dataset) -> Path:
    """A dist folder with the files publishing and the benchmarks read."""
    folder.mkdir(parents=True, exist_ok=True)
    dataset.serialize(folder / "dcdr.trig", format="trig")
    dataset.serialize(folder / "dcdr.nq", format="nquads")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def oxigraph_server(folder: Path, *extra: str, port: int | None = None) -> Iterator[str]:
    """An empty writable Oxigraph server on loopback (on `port`, else a free one); yields its
    base URL."""
    port = port or free_port()
    command = [str(OXIGRAPH), "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/query", params={"query": "ASK{}"}, timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("oxigraph server did not start")
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dist(tmp_path_factory.mktemp("dist"), fixture_dataset())


@pytest.fixture(scope="module")
def published(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an Oxigraph server holding the fixture dist, started by the read-only recipe
    of docs/deploy.md (tests/store_recipes.py): these tests only read."""
    from tests import store_recipes

    with store_recipes.oxigraph_read_only(dist, tmp_path_factory.mktemp("oxigraph")) as sealed:
        yield sealed.query_url.removesuffix("/query")


@pytest.fixture(scope="module")
def embedded(dist: Path) -> ox.Store:
    """The embedded store's semantics: Oxigraph with the union of the graphs as default."""
    store = ox.Store()
    store.bulk_load(path=dist / "dcdr.nq", format=ox.RdfFormat.N_QUADS)
    return store


def normalized(term: dict[str, str]) -> object:
    """A result term comparable across stores: numbers as numbers, blank nodes alike."""
    if term["type"] == "bnode":
        return ("bnode",)
    if term["type"] == "uri":
        return ("uri", term["value"])
    datatype = term.get("datatype", "")
    if datatype.startswith(str(XSD)) and datatype.rsplit("#", 1)[1] in {
        "integer",
        "decimal",
        "double",
        "float",
        "nonNegativeInteger",
        "long",
        "int",
    }:
        return ("number", Decimal(term["value"]))
    return ("literal", term["value"], term.get("xml:lang", ""))


def rows(body: bytes) -> object:
    """A JSON answer as a multiset of rows (order-free), or the boolean of an ASK."""
    document = json.loads(body)
    if "boolean" in document:
        return document["boolean"]
    found = [
        tuple(sorted(((name, normalized(value)) for name, value in row.items()), key=repr))
        for row in document["results"]["bindings"]
    ]
    return sorted(found, key=repr)


def embedded_rows(store: ox.Store, text: str, dataset: DatasetSpec = UNION) -> object:
    if dataset.is_default:
        # FROM in the query picks its own dataset; only without it is the default the union.
        union = not query_has_dataset_clause(text)
        answer = store.query(text, use_default_graph_as_union=union)
    else:
        answer = store.query(
            text,
            default_graph=[ox.NamedNode(g) for g in dataset.default_graphs],
            named_graphs=[ox.NamedNode(g) for g in dataset.named_graphs],
        )
    assert not isinstance(answer, ox.QueryTriples), "only SELECT and ASK are compared as rows"
    return rows(bytes(answer.serialize(format=ox.QueryResultsFormat.JSON) or b""))


@pytest.mark.parametrize("union", ["explicit", "oxigraph"])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_answers_equal_the_embedded_store(
    published: str, embedded: ox.Store, name: str, union: str
) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1", union=union)  # type: ignore[arg-type]
    result = store.query(QUERIES[name], DatasetSpec(), JSON, 10.0)
    assert result.media_type == JSON
    assert rows(result.body) == embedded_rows(embedded, QUERIES[name])


def test_the_union_default_graph_is_not_empty(published: str) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    result = store.query(QUERIES["labels"], DatasetSpec(), JSON, 10.0)
    assert result.count == 10


def test_protocol_dataset_is_passed_on(published: str, embedded: ox.Store) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    spec = DatasetSpec(default_graphs=(FACTS,), named_graphs=(TEXT,))
    text = "SELECT ?s ?g WHERE { { ?s a ?t } UNION { GRAPH ?g { ?s a ?t } } }"
    result = store.query(text, spec, JSON, 10.0)
    assert rows(result.body) == embedded_rows(embedded, text, spec)
    graphs = {
        row["g"]["value"] for row in json.loads(result.body)["results"]["bindings"] if "g" in row
    }
    assert graphs == {TEXT}


def test_construct_answers_in_the_graph_media_type(published: str, embedded: ox.Store) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{FACTS}> {{ ?s ?p ?o }} }}"
    result = store.query(text, DatasetSpec(), JSON, 10.0, graph_media_type="text/turtle")
    assert result.media_type == "text/turtle"
    remote = {t for t in ox.parse(result.body, ox.RdfFormat.TURTLE)}
    local = {q.triple for q in embedded.quads_for_pattern(None, None, None, ox.NamedNode(FACTS))}
    assert {(q.subject, q.predicate, q.object) for q in remote} == {
        (t.subject, t.predicate, t.object) for t in local
    }
    assert result.count == len(local)


def test_csv_counts_rows(published: str) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    result = store.query(QUERIES["labels"], DatasetSpec(), "text/csv", 10.0)
    assert result.media_type == "text/csv"
    assert result.count == 10


def test_row_cap_truncates_and_says_so(published: str) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1", max_rows=3)
    result = store.query(QUERIES["labels"], DatasetSpec(), JSON, 10.0)
    assert result.truncated
    assert len(json.loads(result.body)["results"]["bindings"]) == 3


def test_syntax_error_is_reported_with_its_position(published: str) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    with pytest.raises(QuerySyntaxError, match="line 1"):
        store.query("SELECT ?s WHERE { ?s ?p", DatasetSpec(), JSON, 5.0)


def test_update_is_refused(published: str) -> None:
    store = RemoteSparqlStore(f"{published}/query", "v1")
    with pytest.raises(UpdateRefused):
        store.query("INSERT DATA { <urn:a> <urn:b> <urn:c> }", DatasetSpec(), JSON, 5.0)


def test_connection_refused_means_unavailable() -> None:
    store = RemoteSparqlStore(f"http://127.0.0.1:{free_port()}/query", "v1")
    with pytest.raises(StoreUnavailable):
        store.query("ASK {}", DatasetSpec(), JSON, 5.0)


def test_virtuosos_estimate_past_its_limit_is_a_timeout_not_a_store_error() -> None:
    """Virtuoso refuses up front, with a 500, a query it estimates to run past its limit; the
    merged suite once reported that as a store error."""
    store = RemoteSparqlStore("http://127.0.0.1:1/sparql", "v1")
    message = b"Virtuoso 42000 Error The estimated execution time 11139 (sec) exceeds the limit"
    with pytest.raises(QueryTimeout):
        store._raise_for_status(500, message)


def test_a_silent_store_times_out_on_the_client_side() -> None:
    # A socket that accepts connections (kernel backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        store = RemoteSparqlStore(url, "v1", union="native")
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            store.query("ASK {}", DatasetSpec(), JSON, 0.5)
        assert time.monotonic() - started < 5


def test_version_is_a_stable_fingerprint_when_not_given(published: str) -> None:
    first = RemoteSparqlStore(f"{published}/query").version
    second = RemoteSparqlStore(f"{published}/query").version
    assert first == second
    assert RemoteSparqlStore(f"{published}/query", "given").version == "given"


def test_setting_is_parsed() -> None:
    store = RemoteSparqlStore.from_setting(
        "sparql:http://127.0.0.1:8890/sparql#union=native&timeout-param=timeout", "v9"
    )
    assert (store.endpoint_url, store.union, store.timeout_param) == (
        "http://127.0.0.1:8890/sparql",
        "native",
        "timeout",
    )
    assert store.version == "v9"
    for bad in (
        "embedded",
        "sparql:ftp://x",
        "sparql:http://x/#union=magic",
        "sparql:http://x#a=1",
    ):
        with pytest.raises(ValueError):
            RemoteSparqlStore.from_setting(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }", True),
        ("select * from named <urn:g> where { graph ?g { ?s ?p ?o } }", True),
        ('SELECT * WHERE { ?s ?p "FROM here" }', False),
        ("SELECT * WHERE { ?s <urn:FROM> ?o } # FROM a comment", False),
        ("SELECT ?from WHERE { ?from ?p ?o }", False),
    ],
)
def test_dataset_clause_detection(text: str, expected: bool) -> None:
    assert query_has_dataset_clause(text) is expected


# -- Virtuoso ---------------------------------------------------------------------------------


def _need_virtuoso() -> None:
    if shutil.which("virtuoso-t") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("virtuoso-opensource must be installed in CI (.ci/system-deps)")
        pytest.skip("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")


@pytest.mark.slow
def test_virtuoso_answers_equal_the_embedded_store(
    dist: Path, embedded: ox.Store, tmp_path: Path
) -> None:
    _need_virtuoso()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import peers  # bench/peers.py: the Virtuoso recipe shared with the benchmarks
    finally:
        sys.path.pop(0)
    with peers.virtuoso(tmp_path, dist) as server:
        store = RemoteSparqlStore(server.sparql_url, "v1")
        assert set(store.graphs()) == {FACTS, TEXT, str(graph_iri("shapes"))}
        for name, text in QUERIES.items():
            result: QueryResult = store.query(text, DatasetSpec(), JSON, 30.0)
            assert rows(result.body) == embedded_rows(embedded, text), name
        # Publishing again replaces rather than adds.
        counts = publish(dist, server.store_url or "", peers.VIRTUOSO_AUTH)
        assert all(count.ok for count in counts)


def test_remote_row_cap_read_the_whole_answer(published: str) -> None:
    """The remote store's answer was read whole before the cap cut it; it is now parsed as it
    streams in and dropped one row past the cap, whatever the format asked for."""
    store = RemoteSparqlStore(f"{published}/query", "v1", max_rows=7)
    result = store.query(
        "SELECT * { ?a ?b ?c . ?d ?e ?f }", DatasetSpec(), "text/tab-separated-values", 10.0
    )
    assert (result.truncated, result.count, result.body.count(b"\n")) == (True, 7, 8)

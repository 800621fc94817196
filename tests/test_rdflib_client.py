"""rdflib's SPARQLStore as a read-only graph over a real server on loopback: len, triples, and
a query of every form with every returnFormat rdflib can ask for, by GET and by POST.

rdflib asks for what its returnFormat names alone (`json` → only SPARQL JSON), also for a
CONSTRUCT; the endpoint then answers in the graph family's default (Turtle), as Fuseki does,
and rdflib reads the answer by its Content-Type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from graph.namespaces import DCDR, ID
from tests.server_fixtures import agency_graph, sample_quads

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

RETURN_FORMATS = ["json", "xml", "csv", "tsv", "turtle", "json-ld", "nt"]
METHODS = ["GET", "POST", "POST_FORM"]
LABELS = f"SELECT ?s ?label WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
AGENCY_GRAPH = f"CONSTRUCT WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
NDRC = URIRef(str(ID["agency/ndrc"]))


@pytest.fixture(params=[(f, m) for f in RETURN_FORMATS for m in METHODS], ids=str)
def remote_graph(request: pytest.FixtureRequest, sparql_url: str) -> Iterator[Graph]:
    return_format, method = request.param
    store = SPARQLStore(sparql_url, returnFormat=return_format, method=method, timeout=30)
    yield Graph(store=store)
    store.close()


def test_len_counts_the_union_default_graph(remote_graph: Graph) -> None:
    union = {(q.subject, q.predicate, q.object) for q in sample_quads()}
    assert len(remote_graph) == len(union)


def test_triples(remote_graph: Graph) -> None:
    found = set(remote_graph.triples((None, RDF.type, DCDR.Agency)))
    assert found == set(agency_graph().triples((None, RDF.type, DCDR.Agency)))


def test_select(remote_graph: Graph) -> None:
    rows = {(str(row[0]), str(row[1])) for row in remote_graph.query(LABELS)}  # type: ignore[index]
    assert rows == {
        (str(s), str(label)) for s, _, label in agency_graph().triples((None, RDFS.label, None))
    }


def test_ask(remote_graph: Graph) -> None:
    assert remote_graph.query(f"ASK {{ <{NDRC}> a <{DCDR.Agency}> }}").askAnswer is True


def test_construct(remote_graph: Graph) -> None:
    result = remote_graph.query(AGENCY_GRAPH).graph
    assert result is not None and isomorphic(result, agency_graph())


def test_describe(remote_graph: Graph) -> None:
    result = remote_graph.query(f"DESCRIBE <{NDRC}>").graph
    assert result is not None and set(agency_graph().triples((NDRC, None, None))) <= set(result)

"""The app's side of blue/green publishing without a store: contract names ⇄ a build's names,
the pointer read as it is being rewritten, and caches that forget the build before."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.namespaces import graph_iri
from graph.publish_blue_green import renamer
from server.protocol.cache import ResponseCache, StoredResponse
from server.stores.live_version import BuildNames, _one, valid_version
from server.stores.store import DatasetSpec

FACTS = str(graph_iri("facts"))
NAMES = BuildNames("abc123")
BUILD_FACTS = "https://w3id.org/dcdr/graph/build/abc123/facts"


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        (f"SELECT * WHERE {{ GRAPH <{FACTS}> {{ ?s ?p ?o }} }}", BUILD_FACTS),
        (
            "PREFIX g: <https://w3id.org/dcdr/graph/> "
            "SELECT * WHERE { GRAPH g:facts { ?s ?p ?o } }",
            "<https://w3id.org/dcdr/graph/build/abc123/>",
        ),
    ],
)
def test_contract_graph_names_reach_the_live_build(query: str, sent: str) -> None:
    assert sent in NAMES.query_text(query)


def test_a_protocol_dataset_names_the_live_build() -> None:
    mapped = NAMES.dataset(DatasetSpec((FACTS,), ("http://example.org/g",)))
    assert mapped == DatasetSpec((BUILD_FACTS,), ("http://example.org/g",))


def test_answers_name_the_contract_graphs() -> None:
    body = f'{{"g":{{"type":"uri","value":"{BUILD_FACTS}"}}}}'.encode()
    assert NAMES.answer(body) == f'{{"g":{{"type":"uri","value":"{FACTS}"}}}}'.encode()


def test_data_naming_a_graph_names_the_build_graph() -> None:
    meta = ox.Triple(
        ox.NamedNode(FACTS),
        ox.NamedNode("http://rdfs.org/ns/void#triples"),
        ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    )
    assert renamer(NAMES)(meta).subject == ox.NamedNode(BUILD_FACTS)


@pytest.mark.parametrize(
    ("values", "live"),
    [({"v1"}, "v1"), (set(), None), ({"v1", "v2"}, None), ({"v1> ."}, None)],
)
def test_a_pointer_being_rewritten_names_no_build(values: set[str], live: str | None) -> None:
    assert _one(values) == live


def test_versions_that_cannot_sit_in_an_iri_are_refused() -> None:
    assert not valid_version("a/b")


def test_regression_an_answer_of_the_build_before_is_not_replayed_after_the_switch() -> None:
    cache = ResponseCache(1 << 20)
    started_under = cache.generation  # a request began under the old build …
    cache.clear()  # … the live build changed while it ran …
    cache.put(("/sparql", "query=x", ""), StoredResponse([], b"old", "e"), started_under)
    assert cache.get(("/sparql", "query=x", "")) is None  # … so its answer is not kept

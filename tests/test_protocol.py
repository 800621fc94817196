"""The W3C SPARQL 1.1 Protocol tests (w3c/rdf-tests sparql/sparql11/protocol/manifest.ttl) as a
table run against a real server.

Their data graphs (kasei.us data1–3.rdf) become our own named graphs: `facts` holds the agencies,
`text` the sentences, `meta` the dataset. The update tests expect success from an update
endpoint; this endpoint is read-only, so their rewritten expectation is a refusal (403) with a
message and the data unchanged. `ADAPTED` says how each entry of the manifest was adapted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
import requests

from graph.namespaces import GRAPH
from tests.server_fixtures import (
    boolean_answer,
    media_type,
)

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

FACTS, TEXT, META = (str(GRAPH[name]) for name in ("facts", "text", "meta"))
UNKNOWN = "http://kasei.us/2009/09/sparql/data/data0.rdf"
PREFIXES = (
    "PREFIX dcdr: <https://w3id.org/dcdr/ontology#> "
    "PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> "
    "PREFIX void: <http://rdfs.org/ns/void#> "
)
BOTH_DEFAULT = PREFIXES + "ASK { ?a a dcdr:Agency . ?s a nif:Sentence }"
BOTH_NAMED = PREFIXES + "ASK { GRAPH ?g1 { ?a a dcdr:Agency } GRAPH ?g2 { ?s a nif:Sentence } }"
FULL = PREFIXES + (
    "ASK { ?d a void:Dataset GRAPH ?g1 { ?a a dcdr:Agency } GRAPH ?g2 { ?s a nif:Sentence } }"
)
MULTIPLE = PREFIXES + (
    f"ASK FROM <{META}> {{ GRAPH ?g1 {{ ?a a dcdr:Agency }} GRAPH ?g2 {{ ?s a nif:Sentence }} }}"
)

UPDATE = f"CLEAR ALL ; INSERT DATA {{ GRAPH <{FACTS}> {{ <urn:x:a> a <urn:x:Document> }} }}"
TABULAR = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
BOOLEAN = {"application/sparql-results+json", "application/sparql-results+xml"}
RDF = {"text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"}
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


@dataclass(frozen=True)
class Case:
    method: str
    params: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None
    status: int = 200
    boolean: bool | None = None
    media: set[str] | None = None
    message: str = ""


def form(*pairs: tuple[str, str]) -> bytes:
    return urlencode(list(pairs)).encode("ascii")


CASES: dict[str, Case] = {
    "query_post_form": Case(
        "POST", [("default-graph-uri", UNKNOWN)], form(("query", "ASK {}")), FORM, boolean=True
    ),
    "query_dataset_default_graphs_get": Case(
        "GET",
        [("query", BOTH_DEFAULT), ("default-graph-uri", FACTS), ("default-graph-uri", TEXT)],
        boolean=True,
    ),
    "query_dataset_default_graphs_get (one graph: false)": Case(
        "GET", [("query", BOTH_DEFAULT), ("default-graph-uri", FACTS)], boolean=False
    ),
    "query_dataset_default_graphs_post": Case(
        "POST",
        [("default-graph-uri", FACTS), ("default-graph-uri", TEXT)],
        BOTH_DEFAULT.encode(),
        DIRECT,
        boolean=True,
    ),
    "query_dataset_named_graphs_post": Case(
        "POST",
        [("named-graph-uri", FACTS), ("named-graph-uri", TEXT)],
        BOTH_NAMED.encode(),
        DIRECT,
        boolean=True,
    ),
    "query_dataset_named_graphs_get": Case(
        "GET",
        [("query", BOTH_NAMED), ("named-graph-uri", FACTS), ("named-graph-uri", TEXT)],
        boolean=True,
    ),
    "query_dataset_named_graphs_get (unknown graph: false)": Case(
        "GET", [("query", BOTH_NAMED), ("named-graph-uri", UNKNOWN)], boolean=False
    ),
    "query_dataset_full": Case(
        "POST",
        [("default-graph-uri", META), ("named-graph-uri", FACTS), ("named-graph-uri", TEXT)],
        FULL.encode(),
        DIRECT,
        boolean=True,
    ),
    "query_multiple_dataset": Case(
        "POST",
        [("named-graph-uri", FACTS), ("named-graph-uri", TEXT)],
        MULTIPLE.encode(),
        DIRECT,
        boolean=True,
    ),
    "query_multiple_dataset (FROM alone names no graphs: false)": Case(
        "POST", [], MULTIPLE.encode(), DIRECT, boolean=False
    ),
    "query_get": Case("GET", [("query", "ASK {}"), ("default-graph-uri", UNKNOWN)], boolean=True),
    "query_content_type_select": Case(
        "POST", [], b"SELECT (1 AS ?value) {}", DIRECT, media=TABULAR
    ),
    "query_content_type_ask": Case("POST", [], b"ASK {}", DIRECT, media=BOOLEAN),
    "query_content_type_describe": Case(
        "POST", [], b"DESCRIBE <https://w3id.org/dcdr/id/agency/ndrc>", DIRECT, media=RDF
    ),
    "query_content_type_construct": Case(
        "POST", [], b"CONSTRUCT { <s> <p> 1 } WHERE {}", DIRECT, media=RDF
    ),
    "query_post_direct": Case("POST", [], b"ASK {}", DIRECT, boolean=True),
    "update_dataset_default_graph": Case(
        "POST", [("using-graph-uri", FACTS)], UPDATE.encode(), "application/sparql-update", 403
    ),
    "update_dataset_default_graphs": Case(
        "POST",
        [("using-graph-uri", FACTS), ("using-graph-uri", TEXT)],
        UPDATE.encode(),
        "application/sparql-update",
        403,
    ),
    "update_dataset_named_graphs": Case(
        "POST",
        [("using-named-graph-uri", FACTS)],
        UPDATE.encode(),
        "application/sparql-update",
        403,
    ),
    "update_dataset_full": Case(
        "POST",
        [("using-graph-uri", META), ("using-named-graph-uri", FACTS)],
        UPDATE.encode(),
        "application/sparql-update",
        403,
    ),
    "update_post_form": Case("POST", [], form(("update", UPDATE)), FORM, 403),
    "update_post_direct": Case("POST", [], UPDATE.encode(), "application/sparql-update", 403),
    "update_base_uri": Case(
        "POST",
        [],
        b"BASE <http://example.org/> INSERT DATA { <s> <p> <o> }",
        "application/sparql-update",
        403,
    ),
    "bad_query_method": Case("PUT", [("query", "ASK {}")], status=405),
    "bad_multiple_queries": Case(
        "GET", [("query", "ASK {}"), ("query", "SELECT * {}")], status=400, message="query"
    ),
    "bad_query_wrong_media_type": Case("POST", [], b"ASK {}", "text/plain", 415),
    "bad_query_missing_form_type": Case("POST", [], b"query=ASK%20%7B%7D", None, 415),
    "bad_query_missing_direct_type": Case("POST", [], b"ASK {}", None, 415),
    "bad_query_non_utf8": Case(
        "POST", [], "ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16", 415
    ),
    "bad_query_non_utf8 (undeclared)": Case(
        "POST", [], b'ASK { ?s ?p "\xff\xfe" }', DIRECT, 400, message="UTF-8"
    ),
    "bad_query_syntax": Case("GET", [("query", "ASK {")], status=400, message="line 1, column"),
    "bad_update_get": Case("GET", [("update", "CLEAR ALL")], status=403, message="Update"),
    "bad_multiple_updates": Case(
        "POST", [], form(("update", "CLEAR NAMED"), ("update", "CLEAR DEFAULT")), FORM, 403
    ),
    "bad_update_wrong_media_type": Case("POST", [], b"CLEAR NAMED", "text/plain", 415),
    "bad_update_missing_form_type": Case("POST", [], b"update=CLEAR%20NAMED", None, 415),
    "bad_update_non_utf8": Case(
        "POST",
        [],
        "CLEAR NAMED".encode("utf-16"),
        "application/sparql-update; charset=UTF-16",
        403,
    ),
    "bad_update_syntax": Case("POST", [], b"INSERT DATA { <s> }", "application/sparql-update", 403),
    "bad_update_dataset_conflict": Case(
        "POST",
        [("using-graph-uri", FACTS)],
        f"DELETE {{ ?s ?p ?o }} USING <{TEXT}> WHERE {{ ?s ?p ?o }}".encode(),
        "application/sparql-update",
        403,
    ),
    "update sent to the query endpoint": Case(
        "GET", [("query", UPDATE)], status=400, message="read-only"
    ),
}


# The manifest's entries in its order (w3c/rdf-tests sparql/sparql11/protocol/manifest.ttl), each
# with how its case above was adapted to this read-only endpoint and this data. Common to all:
# the manifest's `/sparql/` is the endpoint (it answers at `/sparql` and `/sparql/`); its data
# graphs data1.rdf, data2.rdf, data3.rdf (kasei.us) are our graphs `facts`, `text`, `meta`, and
# its `<data1.rdf> a ?type` patterns become a class each graph holds (dcdr:Agency,
# nif:Sentence, void:Dataset); data0.rdf, a graph nobody holds, stays as UNKNOWN.
ADAPTED = {
    "query_post_form": "as written: ASK {} by form POST with an unknown default graph",
    "query_dataset_default_graphs_get": "data1+data2 → facts+text as default graphs; "
    "a second row checks one graph alone answers false",
    "query_dataset_default_graphs_post": "as the GET case, by direct POST",
    "query_dataset_named_graphs_post": "data1+data2 → facts+text as named graphs",
    "query_dataset_named_graphs_get": "as the POST case, by GET; a second row checks that an "
    "unknown named graph answers false",
    "query_dataset_full": "data3 → meta as default graph, facts+text as named graphs",
    "query_multiple_dataset": "FROM data3 → FROM meta in the text, overridden by the protocol's "
    "named graphs; a second row checks FROM alone names no graphs (false)",
    "query_get": "as written",
    "query_content_type_select": "SELECT (1 AS ?value) {} as written; any results type passes",
    "query_content_type_ask": "as written; JSON or XML",
    "query_content_type_describe": "DESCRIBE of a resource of ours (the NDRC) instead of the "
    "manifest's example IRI",
    "query_content_type_construct": "as written, relative IRIs included (resolved against the "
    "endpoint's IRI); JSON-LD counts as an RDF type beside RDF/XML, Turtle and N-Triples",
    "update_dataset_default_graph": "the manifest expects the update to run; read-only: 403, "
    "and the data unchanged",
    "update_dataset_default_graphs": "as update_dataset_default_graph",
    "update_dataset_named_graphs": "as update_dataset_default_graph",
    "update_dataset_full": "as update_dataset_default_graph",
    "update_post_form": "as update_dataset_default_graph, by form POST",
    "update_post_direct": "as update_dataset_default_graph, by direct POST",
    "update_base_uri": "the manifest checks the service's BASE; read-only: 403, data unchanged",
    "query_post_direct": "as written",
    "bad_query_method": "PUT instead of the manifest's example method; 405 with Allow",
    "bad_multiple_queries": "as written; the message names the query parameter",
    "bad_query_wrong_media_type": "as written (text/plain → 415)",
    "bad_query_missing_form_type": "as written (415)",
    "bad_query_missing_direct_type": "as written (415)",
    "bad_query_non_utf8": "as written (415); a second row sends bytes not UTF-8 undeclared (400)",
    "bad_query_syntax": "as written (400), with the position in the message",
    "bad_update_get": "as written; read-only: 403 (the manifest accepts any 4XX)",
    "bad_multiple_updates": "as written; 403",
    "bad_update_wrong_media_type": "as written (415: not a query either)",
    "bad_update_missing_form_type": "as written (415)",
    "bad_update_non_utf8": "as written; 403 (any update is refused before its encoding)",
    "bad_update_syntax": "as written; 403",
    "bad_update_dataset_conflict": "as written; 403",
}
# The rows above that are no manifest entry: what this endpoint adds to the suite.
EXTRA_ROWS = {"update sent to the query endpoint"}

COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
INSERTED = f"ASK {{ GRAPH <{FACTS}> {{ <urn:x:a> a <urn:x:Document> }} }}"


def _state(sparql_url: str) -> tuple[str, bool | None]:
    """What an update would change: the number of quads, and the triple it inserts."""
    count = requests.get(sparql_url, params={"query": COUNT_ALL}, timeout=10)
    inserted = requests.get(sparql_url, params={"query": INSERTED}, timeout=10)
    return count.json()["results"]["bindings"][0]["n"]["value"], boolean_answer(inserted)


def test_every_manifest_entry_has_a_case() -> None:
    cases = {name.split(" (")[0] for name in CASES} - EXTRA_ROWS
    assert cases == set(ADAPTED)


@pytest.mark.parametrize("name", list(CASES))
def test_w3c_protocol(sparql_url: str, name: str) -> None:
    case = CASES[name]
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    request = requests.Request(
        case.method, sparql_url + "/", params=case.params, data=case.body, headers=headers
    ).prepare()
    if case.content_type is None and case.body is not None:
        request.headers.pop("Content-Type", None)
    before = _state(sparql_url) if case.status == 403 else None
    with requests.Session() as session:
        response = session.send(request, timeout=30)
    assert response.status_code == case.status, response.text
    if case.status >= 400:
        message = response.json()["detail"]
        assert message and "Traceback" not in response.text
        assert case.message in message
        if case.status == 403:
            assert "read-only" in message
            after = _state(sparql_url)
            assert before is not None and after == before and after[1] is False
        return
    if case.boolean is not None:
        assert boolean_answer(response) is case.boolean
    if case.media is not None:
        assert media_type(response) in case.media


def test_relative_iris_were_parsed_without_a_base(sparql_url: str) -> None:
    """`CONSTRUCT { <s> <p> 1 } WHERE {}` answered 400 "IRI parsing failed": the query is now
    parsed with the endpoint's own IRI as base, as Oxigraph server does."""
    response = requests.get(
        sparql_url,
        params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"},
        headers={"Accept": "application/n-triples"},
        timeout=10,
    )
    assert (response.status_code, response.text.split(" ")[0]) == (
        200,
        f"<{sparql_url.rsplit('/', 1)[0]}/s>",
    ), response.text


def test_405_names_the_allowed_methods(sparql_url: str) -> None:
    response = requests.delete(sparql_url, params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}

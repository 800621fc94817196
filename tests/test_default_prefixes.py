"""Queries without PREFIX lines, as on Wikidata's query service: the project's prefixes and the
standard ones work in every query sent to /sparql, on the embedded store and on a remote
Oxigraph server alike; error positions stay those of the text as written; a query's own PREFIX
wins; the service description lists the defaults (sh:declare)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH, XSD

from graph.namespaces import DCDR, QUERY_PREFIXES
from graph.publish import publish
from server.stores.default_prefixes import declare_defaults, shift_back
from tests import pages_fixtures as fx
from tests.test_remote_store import oxigraph_server

# The real server of the endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

JSON = "application/sparql-results+json"
AGENCIES = "SELECT ?a ?label WHERE { ?a a dcdr:Agency ; rdfs:label ?label }"


@pytest.fixture(scope="module")
def fixture_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build_fixture_dist(tmp_path_factory.mktemp("prefixes") / "dist")


@pytest.fixture(scope="module")
def remote_app(fixture_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app answering from a real Oxigraph server that holds the fixture dataset."""
    from server import create_app

    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as base:
        publish(fixture_dist, f"{base}/store")
        app = create_app(
            {
                "dist": fixture_dist,
                "store": f"sparql:{base}/query",
                "cache_bytes": 0,
                "access_log": False,
            }
        )
        app.config["TESTING"] = True
        yield app


@pytest.fixture(params=["embedded", "remote"])
def endpoint(request: pytest.FixtureRequest, client: FlaskClient) -> FlaskClient:
    if request.param == "embedded":
        return client
    app: Flask = request.getfixturevalue("remote_app")
    return app.test_client()


def _select(endpoint: FlaskClient, query: str) -> list[dict[str, str]]:
    response = endpoint.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = json.loads(response.data)["results"]["bindings"]
    return [{name: value["value"] for name, value in row.items()} for row in rows]


def test_select_without_prefix_lines(endpoint: FlaskClient) -> None:
    found = {row["a"] for row in _select(endpoint, AGENCIES)}
    assert str(fx.AGENCY) in found


def test_ask_without_prefix_lines(endpoint: FlaskClient) -> None:
    query = "ASK { ?o a dcdr:Observation ; prov:wasDerivedFrom ?s . ?s a nif:Sentence }"
    response = endpoint.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert json.loads(response.data)["boolean"] is True


def test_construct_without_prefix_lines(endpoint: FlaskClient) -> None:
    query = "CONSTRUCT { ?a rdfs:label ?l } WHERE { ?a a dcdr:Agency ; rdfs:label ?l }"
    response = endpoint.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    graph = Graph().parse(data=response.data, format="turtle")
    assert (fx.AGENCY, RDFS.label, Literal("最高人民法院", lang="zh")) in graph


def test_own_prefix_wins_over_the_default(endpoint: FlaskClient) -> None:
    # rdfs: bound to a namespace nothing uses: the default must not leak in.
    query = "PREFIX rdfs: <urn:nothing:>\n" + AGENCIES
    assert _select(endpoint, query) == []


def test_unknown_prefix_is_named_at_its_position(endpoint: FlaskClient) -> None:
    query = "SELECT ?a WHERE {\n  ?a a dcdr:Agency ;\n     ex:name ?n }"
    response = endpoint.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert response.status_code == 400
    assert response.get_json()["detail"] == (
        "SPARQL syntax error at line 3, column 6: prefix ex: is not declared; add PREFIX ex: <…>"
    )


def test_syntax_error_column_is_the_users_own(endpoint: FlaskClient) -> None:
    # Line 1 uses default prefixes; a remote store gets declarations added on that line.
    query = "SELECT ?a WHERE { ?a a dcdr:Agency ; rdfs:label ?l } LIMIT x"
    response = endpoint.get("/sparql", query_string={"query": query}, headers={"Accept": JSON})
    assert "line 1, column 60: unexpected 'x'" in response.get_json()["detail"]


def test_the_service_description_declares_the_default_prefixes(client: FlaskClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.data, format="turtle")
    declared = {
        (str(graph.value(node, SH.prefix)), graph.value(node, SH.namespace))
        for node in graph.objects(None, SH.declare)
    }
    expected = {
        (prefix, Literal(namespace, datatype=XSD.anyURI))
        for prefix, namespace in QUERY_PREFIXES.items()
    }
    assert declared == expected
    assert ("dcdr", Literal(str(DCDR), datatype=XSD.anyURI)) in declared
    assert {"rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "prov", "nif", "qb", "org"} <= {
        prefix for prefix, _ in declared
    }
    assert {"schema", "dcat", "void", "foaf", "wd", "wdt"} <= {prefix for prefix, _ in declared}
    assert URIRef("http://www.wikidata.org/prop/direct/") == URIRef(QUERY_PREFIXES["wdt"])


def test_declarations_go_on_the_first_line_only() -> None:
    text = "SELECT * {\n ?s rdfs:label ?l ; dcdr:x _:b FILTER(?l != 'owl:x') } # skos:y"
    sent, shift, line = declare_defaults(text, QUERY_PREFIXES)
    assert line == 1
    assert sent.splitlines()[1:] == text.splitlines()[1:]
    assert sent.count("PREFIX") == 2 and "owl:" not in sent[:shift] and "skos" not in sent[:shift]
    assert shift_back(f"error at 1:{shift + 5}: x", shift) == "error at 1:5: x"


def test_defaults_after_a_leading_base_keep_virtuoso_reading_the_prologue() -> None:
    """Virtuoso 7 rejects a BASE after a PREFIX, and every example query opens with BASE."""
    text = "# title\nBASE <https://w3id.org/dcdr/id/>\nSELECT * { ?s rdfs:label ?l }"
    sent, _, line = declare_defaults(text, QUERY_PREFIXES)
    assert (sent.index("BASE") < sent.index("PREFIX"), line) == (True, 2)


def test_the_servers_direct_get_path_knows_the_defaults_too(sparql_url: str) -> None:
    """A plain GET is answered without Flask (server/front/sparql_direct.py) by the same store."""
    response = requests.get(
        sparql_url,
        params={"query": "ASK { ?a a dcdr:Agency ; rdfs:label ?l }"},
        headers={"Accept": JSON},
        timeout=10,
    )
    assert response.json()["boolean"] is True

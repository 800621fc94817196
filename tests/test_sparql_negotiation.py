"""Content negotiation at /sparql: Accept with q-values, short format names, 406, Vary."""

from __future__ import annotations

import pytest
import requests
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from server.protocol import negotiation
from tests.server_fixtures import media_type

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"

SELECT_ACCEPT = [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("application/xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("text/csv;q=1.0, application/sparql-results+xml;q=0.9", "text/csv"),
    ("text/*", "text/csv"),
    ("image/png, text/tab-separated-values;q=0.1", "text/tab-separated-values"),
    ("application/sparql-results+json;q=0, */*;q=0.5", "application/sparql-results+xml"),
]
GRAPH_ACCEPT = [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("text/plain", "application/n-triples"),
    ("application/rdf+xml;q=0.3, application/ld+json;q=0.8", "application/ld+json"),
]
FORMAT_NAMES = [
    ("json", SELECT, "application/sparql-results+json"),
    ("xml", SELECT, "application/sparql-results+xml"),
    ("csv", SELECT, "text/csv"),
    ("tsv", SELECT, "text/tab-separated-values"),
    ("text/csv", SELECT, "text/csv"),
    ("json", CONSTRUCT, "application/ld+json"),
    ("xml", CONSTRUCT, "application/rdf+xml"),
    ("ttl", CONSTRUCT, "text/turtle"),
    ("turtle", CONSTRUCT, "text/turtle"),
    ("nt", CONSTRUCT, "application/n-triples"),
    ("ntriples", CONSTRUCT, "application/n-triples"),
    ("nq", CONSTRUCT, "application/n-quads"),
    ("trig", CONSTRUCT, "application/trig"),
    ("jsonld", CONSTRUCT, "application/ld+json"),
    ("json-ld", CONSTRUCT, "application/ld+json"),
    ("rdf", CONSTRUCT, "application/rdf+xml"),
    ("rdfxml", CONSTRUCT, "application/rdf+xml"),
    ("application/n-triples", CONSTRUCT, "application/n-triples"),
]


def _get(url: str, query: str, accept: str | None, **params: str) -> requests.Response:
    headers = {"Accept": accept} if accept is not None else {}
    session = requests.Session()
    if accept is None:
        session.headers.pop("Accept", None)
    response = session.get(url, params={"query": query, **params}, headers=headers, timeout=10)
    session.close()
    return response


@pytest.mark.parametrize(("accept", "expected"), SELECT_ACCEPT)
def test_select_accept(sparql_url: str, accept: str | None, expected: str) -> None:
    response = _get(sparql_url, SELECT, accept)
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize(("accept", "expected"), GRAPH_ACCEPT)
def test_construct_accept(sparql_url: str, accept: str | None, expected: str) -> None:
    response = _get(sparql_url, CONSTRUCT, accept)
    assert response.status_code == 200, response.text
    assert media_type(response) == expected


@pytest.mark.parametrize("parameter", ["format", "output", "results"])
@pytest.mark.parametrize(("name", "query", "expected"), FORMAT_NAMES)
def test_format_names_win_over_accept(
    sparql_url: str, parameter: str, name: str, query: str, expected: str
) -> None:
    response = _get(sparql_url, query, "image/png", **{parameter: name})
    assert response.status_code == 200, response.text
    assert media_type(response) == expected


@pytest.mark.parametrize(
    ("query", "accept"),
    # A type of the other family is not "nothing": it gets the form's default
    # (tests/test_negotiation_table.py).
    [(SELECT, "image/png"), (CONSTRUCT, "image/png"), (CONSTRUCT, "application/pdf")],
)
def test_nothing_acceptable_is_406(sparql_url: str, query: str, accept: str) -> None:
    response = _get(sparql_url, query, accept)
    assert response.status_code == 406
    assert "media type" in response.json()["message"]


def test_unknown_format_name_is_400(sparql_url: str) -> None:
    response = _get(sparql_url, SELECT, None, format="yaml")
    assert response.status_code == 400
    assert "yaml" in response.json()["message"]


def test_browser_gets_a_page_or_the_service_description(sparql_url: str) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = requests.get(sparql_url, headers={"Accept": browser}, timeout=10)
    # The pages' query UI when registered, else the service description (Turtle).
    assert response.status_code == 200
    assert media_type(response) in ("text/html", "text/turtle")


def test_negotiate_unit_table() -> None:
    accept = parse_accept_header("text/csv;q=0.2, application/ld+json", MIMEAccept)
    choice = negotiation.negotiate(accept)
    assert choice.solutions == "text/csv"
    assert choice.graph == "application/ld+json"
    assert negotiation.negotiate(MIMEAccept(), "ttl").solutions == ""
    with pytest.raises(negotiation.UnknownFormat):
        negotiation.negotiate(MIMEAccept(), "docx")


def test_browser_accept_prefers_html() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert negotiation.prefers_html(parse_accept_header(browser, MIMEAccept))
    assert not negotiation.prefers_html(parse_accept_header("*/*", MIMEAccept))
    assert not negotiation.prefers_html(MIMEAccept())

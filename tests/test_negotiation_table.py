"""Content negotiation, the same on every path of a real server, as one table:
(path, method, Accept, format) → status and media type.

Rules (issue 16, as Fuseki and Oxigraph server answer): a missing Accept means `*/*`; an
explicit `format` wins over Accept, also over a browser's (which names text/html); a query
form asked for a type of the other family gets its own family's default (Turtle for graphs,
SPARQL JSON for results); an Accept that names nothing the server writes gets 406.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from tests.server_fixtures import media_type

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
AGENCY = "/id/agency/ndrc"
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"


@dataclass(frozen=True)
class Row:
    path: str
    accept: str | None
    query: str | None = None
    format: str | None = None
    method: str = "GET"
    status: int = 200
    media: str | None = None


TABLE = {
    # /id/…: pages and RDF
    "id without Accept was 406": Row(AGENCY, None, media="text/html"),
    "id for a browser": Row(AGENCY, BROWSER, media="text/html"),
    "id as Turtle": Row(AGENCY, TURTLE, media=TURTLE),
    "id format wins over a browser's Accept": Row(AGENCY, BROWSER, format="ttl", media=TURTLE),
    "id asked for an image": Row(AGENCY, "image/png", status=406),
    "ontology without Accept": Row("/ontology", None, media="text/html"),
    # /sparql: queries
    "select without Accept": Row("/sparql", None, SELECT, media=JSON),
    "construct without Accept": Row("/sparql", None, CONSTRUCT, media=TURTLE),
    "construct asked for SPARQL JSON was 406": Row("/sparql", JSON, CONSTRUCT, media=TURTLE),
    "construct asked for SPARQL XML by POST": Row(
        "/sparql", "application/sparql-results+xml", CONSTRUCT, method="POST", media=TURTLE
    ),
    "select asked for Turtle": Row("/sparql", TURTLE, SELECT, media=JSON),
    "ask asked for Turtle": Row("/sparql", TURTLE, ASK, media=JSON),
    "ask asked for CSV, which has no boolean": Row("/sparql", "text/csv", ASK, media=JSON),
    "select format=csv was ignored for a browser": Row(
        "/sparql", BROWSER, SELECT, format="csv", media="text/csv"
    ),
    "select format wins over Accept": Row(
        "/sparql", "text/csv", SELECT, format="tsv", media="text/tab-separated-values"
    ),
    "select for a browser is the query page": Row("/sparql", BROWSER, SELECT, media="text/html"),
    "select asked for an image": Row("/sparql", "image/png", SELECT, status=406),
    "construct asked for an image": Row("/sparql", "image/png", CONSTRUCT, status=406),
    "construct format=nt wins over a browser": Row(
        "/sparql", BROWSER, CONSTRUCT, format="nt", media="application/n-triples"
    ),
    # /sparql without a query: the service description
    "service description without Accept": Row("/sparql", None, media=TURTLE),
    "service description asked for SPARQL JSON": Row("/sparql", JSON, media=TURTLE),
    "service description as N-Quads": Row(
        "/sparql", "application/n-quads", media="application/n-quads"
    ),
    "service description asked for an image": Row("/sparql", "image/png", status=406),
    # /search
    "search format=json wins over a browser": Row(
        "/search?q=ndrc", BROWSER, format="json", media="application/json"
    ),
}


@pytest.mark.parametrize("name", list(TABLE))
def test_negotiation(server_url: str, name: str) -> None:
    row = TABLE[name]
    params: dict[str, str] = {}
    if row.query is not None:
        params["query"] = row.query
    if row.format is not None:
        params["format"] = row.format
    headers = {"Accept": row.accept} if row.accept is not None else {}
    session = requests.Session()
    # requests sends `Accept: */*` unless told otherwise; a missing header must stay missing.
    session.headers.pop("Accept", None)
    url = server_url + row.path
    if row.method == "POST":
        response = session.post(url, data=params, headers=headers, timeout=10)
    else:
        response = session.get(url, params=params, headers=headers, timeout=10)
    got = (response.status_code, media_type(response) if row.status == 200 else row.media)
    assert got == (row.status, row.media), response.text[:300]

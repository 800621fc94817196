"""Errors as RFC 9457 problem details, and pyoxigraph's syntax errors in plain words at the
right place (server/problem_details.py, server/stores/syntax_messages.py)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests

from server.stores.syntax_messages import plain_syntax_message

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)


def _oxigraph_says(query: str) -> str:
    try:
        ox.Store().query(query)
    except SyntaxError as error:
        return str(error)
    raise AssertionError(f"{query!r} parsed")


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/sparql", {"query": "SELECT * {"}, 400),
        ("/sparql", {"query": "ASK {}", "format": "yaml"}, 400),
        ("/sparql", {"query": "ASK {}", "update": "CLEAR ALL"}, 403),
        ("/id/agency/nobody-at-all", {"format": "ttl"}, 404),
        ("/sparql", {"query": "SELECT * { ?s ?p ?o }"}, 406),
    ],
)
def test_errors_were_json_without_the_problem_media_type(
    server_url: str, path: str, params: dict[str, str], status: int
) -> None:
    """Errors were JSON as application/json with `message` only; they are now problem
    details (RFC 9457 §3.1: type, title, status, detail) as application/problem+json."""
    headers = {"Accept": "image/png"} if status == 406 else {}
    response = requests.get(server_url + path, params=params, headers=headers, timeout=10)
    document = response.json()
    assert (
        response.status_code,
        response.headers["Content-Type"].split(";")[0],
        document["type"],
        document["status"],
        bool(document["title"] and document["detail"]),
    ) == (status, "application/problem+json", "about:blank", status, True)


def test_undeclared_prefix_was_parser_jargon(sparql_url: str) -> None:
    """ "expected one of Prefix not found, ['%'], …" became a sentence that says what to add."""
    # dcdr: and the standard prefixes are declared by default (tests/test_default_prefixes.py).
    response = requests.get(sparql_url, params={"query": "SELECT * { ?s a ex:Agency }"})
    assert response.json()["detail"] == (
        "SPARQL syntax error at line 1, column 17: prefix ex: is not declared; add PREFIX ex: <…>"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "SELECT * { ?s <http://a b> ?o }",
            "line 1, column 15: <http://a b> is not a valid IRI",
        ),
        ("SELECT ?s WHERE { ?s ?p ?o", "line 1, column 27: the query ends before it is complete"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT x", "line 1, column 35: unexpected 'x'; expected"),
        (
            "PREFIX dcdr: <https://w3id.org/dcdr/ontology#>\nSELECT * { ?s a dcdr:Agency ; x:y 1 }",
            "line 2, column 31: prefix x: is not declared",
        ),
    ],
)
def test_parser_messages_in_plain_words(query: str, expected: str) -> None:
    message = plain_syntax_message(_oxigraph_says(query), query)
    assert expected in message and "[" not in message, message

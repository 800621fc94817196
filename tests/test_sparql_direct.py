"""The direct GET path (server/front/sparql_direct.py) answers exactly as the `sparql` blueprint
does, and hands every other request to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from server import create_app
from server.front.sparql_direct import Declined, DirectAnswer, DirectGet, read_query_string
from server.stores.store import QuerySyntaxError

pytest_plugins = ("tests.server_fixtures",)

AGENCIES = "SELECT ?a ?label WHERE { ?a a <https://w3id.org/dcdr/ontology#Agency> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?a ?label"  # noqa: E501
VALUES = "SELECT ?o ?v WHERE { ?o <https://w3id.org/dcdr/ontology#value> ?v } ORDER BY ?o"
ASK = "ASK { ?a a <https://w3id.org/dcdr/ontology#Agency> }"
# Below the fixture's 240 observations, so that VALUES is cut.
ROW_LIMIT = 50
GRAPH = "CONSTRUCT WHERE { ?a a <https://w3id.org/dcdr/ontology#Agency> }"


@pytest.fixture(scope="module")
def app(sample_dist: Path) -> Iterator[Flask]:
    application = create_app({"dist": sample_dist, "row_limit": ROW_LIMIT, "access_log": False})
    yield application
    application.extensions["dcdr"].store.close()


@pytest.fixture(scope="module")
def direct(app: Flask) -> DirectGet:
    return DirectGet(app.extensions["dcdr"])


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"query": AGENCIES}, "application/sparql-results+json"),
        ({"query": AGENCIES}, "application/sparql-results+xml"),
        ({"query": AGENCIES}, "text/csv"),
        ({"query": AGENCIES}, "text/tab-separated-values"),
        ({"query": AGENCIES}, ""),
        ({"query": AGENCIES}, "*/*"),
        ({"query": AGENCIES, "format": "csv"}, "application/json"),
        ({"query": AGENCIES, "output": "xml"}, ""),
        ({"query": AGENCIES, "timeout": "5"}, "application/json"),
        ({"query": VALUES}, "application/sparql-results+json"),  # past the row cap
        ({"query": VALUES}, "text/csv"),
        ({"query": ASK}, "application/sparql-results+json"),
        ({"query": GRAPH}, "text/turtle"),
        ({"query": GRAPH}, "application/n-triples"),
        ({"query": GRAPH}, "application/ld+json"),
    ],
)
def test_a_direct_answer_equals_the_apps(
    app: Flask, direct: DirectGet, params: dict[str, str], accept: str
) -> None:
    answer = direct.answer(urlencode(params), accept)
    assert isinstance(answer, DirectAnswer)
    response = app.test_client().get("/sparql", query_string=params, headers={"Accept": accept})
    assert (response.status_code, sorted(response.headers.items()), response.data) == (
        200,
        sorted(answer.headers),
        answer.body,
    )


def test_a_truncated_answer_says_so_as_the_app_does(direct: DirectGet) -> None:
    answer = direct.answer(urlencode({"query": VALUES}), "text/csv")
    assert isinstance(answer, DirectAnswer)
    assert ("X-DCDR-Result-Truncated", "true") in answer.headers


@pytest.mark.parametrize(
    ("query_string", "accept"),
    [
        (urlencode({"query": AGENCIES}), "text/html,application/xhtml+xml"),  # the query UI
        ("", "application/json"),  # the service description
        (urlencode({"query": AGENCIES, "default-graph-uri": "http://x.org/g"}), ""),
        (urlencode({"query": AGENCIES, "unknown": "1"}), ""),
        (urlencode({"query": AGENCIES, "format": "nonsense"}), ""),
        (urlencode({"query": AGENCIES, "timeout": "-1"}), ""),
        (urlencode({"query": "INSERT DATA { <a> <b> <c> }"}), ""),
        (urlencode({"query": GRAPH}), "image/png"),  # 406
        (urlencode([("query", ASK), ("query", ASK)]), ""),
        ("query=%FF", ""),  # not UTF-8
    ],
)
def test_anything_but_a_plain_query_is_left_to_the_app(
    direct: DirectGet, query_string: str, accept: str
) -> None:
    assert direct.answer(query_string, accept) == Declined()


def test_a_store_error_is_handed_to_the_app(direct: DirectGet) -> None:
    answer = direct.answer(urlencode({"query": "SELECT * WHERE { ?s ?p }"}), "")
    assert isinstance(answer, Declined) and isinstance(answer.store_error, QuerySyntaxError)


def test_the_app_answers_a_handed_over_store_error_without_running_the_query(app: Flask) -> None:
    from server.protocol.sparql import STORE_ERROR

    response = app.test_client().get(
        "/sparql",
        query_string={"query": ASK},
        environ_overrides={STORE_ERROR: QuerySyntaxError("SPARQL syntax error: handed over")},
    )
    assert (response.status_code, json.loads(response.data)["message"]) == (
        400,
        "SPARQL syntax error: handed over",
    )


def _either(function: Callable[[], object]) -> object:
    try:
        return function()
    except ValueError as error:
        return type(error)


# Pieces that exercise every branch: escapes valid, malformed, not UTF-8, of a backslash or
# of "%" itself, the separators, and any character at all.
_PIECES = st.sampled_from(
    ["%", "+", "&", "=", "\\", "a", "Z", "0", "国", "%41", "%e5%9b%bd", "%ff", "%2", "%zz", "%5C"]
)


@given(st.lists(_PIECES | st.characters(), max_size=40).map("".join))
def test_the_query_string_reads_as_parse_qsl_reads_it(text: str) -> None:
    expected = _either(
        lambda: parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=8
        )
    )
    assert _either(lambda: read_query_string(text, 8)) == expected


@given(st.lists(st.tuples(st.text(), st.text()), max_size=5))
def test_encoded_parameters_read_back_unchanged(pairs: list[tuple[str, str]]) -> None:
    assert read_query_string(urlencode(pairs), 8) == pairs

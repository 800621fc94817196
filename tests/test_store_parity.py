"""The same answers and the same limits through the app, whatever store answers: the embedded
store, an Oxigraph server and Virtuoso, each started by the recipe of docs/deploy.md
(tests/store_recipes.py: read-only for the app, no default password) and holding the real
graph published by `dcdr publish`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from flask import Flask

from graph.namespaces import XSD
from graph.publish import dist_version
from server import create_app
from server.problem_details import PROBLEM_JSON
from server.protocol.sparql import ROW_LIMIT_HEADER, TRUNCATED_HEADER
from server.stores.store import QueryTimeout
from server.stores.store_answers import check_complete, raise_if_interrupted
from server.stores.store_credentials import StoreAuth
from tests import store_recipes
from tests.test_remote_store import _need_virtuoso

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "queries" / "examples").glob("*.rq"))
JSON = "application/sparql-results+json"
TIMEOUT_S = 2.0
ROW_LIMIT = 500
# A cartesian product no store finishes in seconds; an aggregate, so it streams nothing.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
NUMBERS = {"integer", "decimal", "double", "float"}


def _app(dist: Path, store: str = "embedded") -> Flask:
    settings = {
        "dist": dist,
        "store": store,
        "store_version": dist_version(dist) if store != "embedded" else "",
        "timeout": TIMEOUT_S,
        "row_limit": ROW_LIMIT,
        "query_workers": 1,
        "access_log": False,
    }
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def oxigraph(real_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with store_recipes.oxigraph_read_only(
        real_dist, tmp_path_factory.mktemp("oxigraph"), timeout_s=int(TIMEOUT_S)
    ) as sealed:
        yield sealed.setting


@pytest.fixture(scope="module")
def virtuoso(
    real_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[store_recipes.SealedStore]:
    _need_virtuoso()
    with store_recipes.virtuoso_read_only(real_dist, tmp_path_factory.mktemp("virtuoso")) as s:
        yield s


@pytest.fixture(scope="module")
def apps(real_dist: Path, oxigraph: str, virtuoso: store_recipes.SealedStore) -> dict[str, Flask]:
    return {
        "embedded": _app(real_dist),
        "oxigraph": _app(real_dist, oxigraph),
        "virtuoso": _app(real_dist, virtuoso.setting),
    }


def typed(term: dict[str, str]) -> tuple[object, ...]:
    """A result term as a typed value: numbers by datatype and value ("1.0" = "1.00"), so an
    xsd:integer read back as xsd:decimal differs."""
    if term["type"] == "bnode":
        return ("bnode",)
    if term["type"] == "uri":
        return ("uri", term["value"])
    datatype = term.get("datatype", "")
    local = datatype.removeprefix(str(XSD))
    if local in NUMBERS:
        return ("number", local, Decimal(term["value"]))
    return ("literal", term["value"], datatype, term.get("xml:lang", ""))


def answer_rows(app: Flask, text: str) -> list[tuple[object, ...]]:
    answer = app.test_client().get(
        "/sparql", query_string={"query": text}, headers={"Accept": JSON}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows: list[tuple[object, ...]] = [
        tuple(sorted((name, typed(value)) for name, value in row.items()))
        for row in json.loads(answer.data)["results"]["bindings"]
    ]
    ordered = re.search(r"\bORDER\s+BY\b", re.sub(r"#.*", "", text), re.IGNORECASE)
    return rows if ordered else sorted(rows, key=repr)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_query_gives_the_same_rows(apps: dict[str, Flask], example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    answers = {name: answer_rows(app, text) for name, app in apps.items()}
    assert answers["oxigraph"] == answers["embedded"]
    assert answers["virtuoso"] == answers["embedded"]


def test_a_query_with_its_own_base_may_use_the_default_prefixes_on_virtuoso(
    apps: dict[str, Flask],
) -> None:
    """The default PREFIX declarations once went before the query's own BASE, which Virtuoso 7
    refuses; they now follow it."""
    text = (
        "# a user's query\nBASE <https://w3id.org/dcdr/id/>\n"
        "SELECT ?label WHERE { <agency/ndrc> rdfs:label ?label }"
    )
    assert answer_rows(apps["virtuoso"], text) == answer_rows(apps["embedded"], text) != []


def test_integers_beyond_32_bits_stay_integers_through_virtuoso(apps: dict[str, Flask]) -> None:
    text = (
        "SELECT DISTINCT (DATATYPE(?v) AS ?type) WHERE "
        "{ ?o <https://w3id.org/dcdr/ontology#value> ?v FILTER(?v > 2147483647) }"
    )
    assert answer_rows(apps["virtuoso"], text) == [(("type", ("uri", str(XSD.integer))),)]


@pytest.mark.parametrize("store", ["oxigraph", "virtuoso"])
def test_the_row_cap_reaches_the_remote_store(apps: dict[str, Flask], store: str) -> None:
    answer = (
        apps[store]
        .test_client()
        .get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": JSON})
    )
    rows = len(json.loads(answer.data)["results"]["bindings"])
    assert (answer.status_code, rows, answer.headers.get(TRUNCATED_HEADER)) == (
        200,
        ROW_LIMIT,
        "true",
    )
    assert answer.headers[ROW_LIMIT_HEADER] == str(ROW_LIMIT)


@pytest.mark.parametrize("store", ["oxigraph", "virtuoso"])
def test_a_query_past_its_limit_is_a_503_never_kept(apps: dict[str, Flask], store: str) -> None:
    client = apps[store].test_client()
    answers = [
        client.get("/sparql", query_string={"query": ENDLESS}, headers={"Accept": "text/csv"})
        for _ in range(2)  # the second must reach the store again: nothing was cached
    ]
    for answer in answers:
        assert answer.status_code == 503
        assert answer.mimetype == PROBLEM_JSON
        assert answer.json["reason"] == "timeout"  # type: ignore[index]
        assert "ETag" not in answer.headers
        assert "public" not in answer.headers.get("Cache-Control", "")


def test_virtuosos_incomplete_200_is_a_timeout(virtuoso: store_recipes.SealedStore) -> None:
    """Virtuoso's `timeout` parameter gives a 200 with the rows it had ("anytime" results);
    only its headers say the answer is not whole."""
    assert virtuoso.reader is not None
    answer = requests.post(
        virtuoso.query_url,
        data={
            "query": ENDLESS,
            "default-graph-uri": "https://w3id.org/dcdr/graph/facts",
            "timeout": "500",
        },
        headers={"Accept": JSON},
        auth=StoreAuth(*virtuoso.reader),
        timeout=60,
    )
    assert answer.status_code == 200
    with pytest.raises(QueryTimeout):
        raise_if_interrupted(answer.headers, 0.5)


def test_oxigraphs_cancelled_stream_is_a_timeout() -> None:
    """Oxigraph server 0.5.13 with `--timeout-s` wrote this (measured here) as a 200."""
    body = b'{"head":{"vars":["n"]},"results":{"bindings":[The SPARQL operation has been cancelled'
    with pytest.raises(QueryTimeout):
        check_complete(body, JSON, 2.0)


def test_oxigraphs_cancelled_csv_is_a_timeout() -> None:
    with pytest.raises(QueryTimeout):
        check_complete(b"n\r\nThe SPARQL operation has been cancelled", "text/csv", 2.0)


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { GRAPH <https://w3id.org/dcdr/graph/facts> { <urn:x> <urn:y> <urn:z> } }",
        "DROP GRAPH <https://w3id.org/dcdr/graph/facts>",
    ],
)
@pytest.mark.parametrize("store", ["oxigraph", "virtuoso"])
def test_the_apps_account_cannot_write_to_the_store(
    oxigraph: str, virtuoso: store_recipes.SealedStore, store: str, update: str
) -> None:
    """Sent straight to the store (not through the app, which refuses updates itself), with
    the account the app is configured with."""
    if store == "oxigraph":
        url, auth = oxigraph.removeprefix("sparql:").rsplit("/", 1)[0] + "/update", None
    else:
        assert virtuoso.reader is not None
        url, auth = virtuoso.query_url, StoreAuth(*virtuoso.reader)
    field = "update" if store == "oxigraph" else "query"
    answer = requests.post(url, data={field: update}, auth=auth, timeout=30)
    assert answer.status_code >= 400, answer.text[:300]


def test_virtuosos_default_password_is_gone(virtuoso: store_recipes.SealedStore) -> None:
    assert virtuoso.store_url is not None
    answer = requests.put(
        virtuoso.store_url,
        params={"graph-uri": "https://w3id.org/dcdr/graph/facts"},
        data=b"<urn:x> <urn:y> <urn:z> .",
        headers={"Content-Type": "text/turtle"},
        auth=StoreAuth("dba", "dba"),
        timeout=30,
    )
    assert answer.status_code == 401


def test_a_store_that_is_down_is_a_503_saying_so(real_dist: Path) -> None:
    from tests.server_fixtures import free_port

    app = _app(real_dist, f"sparql:http://127.0.0.1:{free_port()}/query")
    answer = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert (answer.status_code, answer.json["reason"]) == (503, "store_unavailable")  # type: ignore[index]


def test_a_store_that_answers_an_error_is_a_503_saying_so(
    real_dist: Path, virtuoso: store_recipes.SealedStore
) -> None:
    """Virtuoso refuses the default password, which the sealed recipe changed."""
    wrong = virtuoso.setting.replace(f"{store_recipes.READER}:", f"{store_recipes.READER}:x", 1)
    answer = _app(real_dist, wrong).test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert (answer.status_code, answer.json["reason"]) == (503, "store_error")  # type: ignore[index]


def test_tsv_answers_through_virtuoso(apps: dict[str, Flask]) -> None:
    """Virtuoso 7.2.5 writes TSV's header as `"s"`, which no TSV reader takes: the app asks
    it for JSON and writes the TSV itself."""
    answer = (
        apps["virtuoso"]
        .test_client()
        .get(
            "/sparql",
            query_string={
                "query": "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Report> }"
            },
            headers={"Accept": "text/tab-separated-values"},
        )
    )
    assert (answer.status_code, answer.data.splitlines()[0]) == (200, b"?s")


def test_the_served_answer_past_its_limit_is_never_replayed(
    real_dist: Path, virtuoso: store_recipes.SealedStore
) -> None:
    """Through `dcdr serve` (granian and its replay cache), the same GET twice."""
    from tests.server_fixtures import ServerProcess

    env = {
        "DCDR_STORE": virtuoso.setting,
        "DCDR_STORE_VERSION": dist_version(real_dist),
        "DCDR_TIMEOUT": str(TIMEOUT_S),
        "DCDR_WORKERS": "1",
    }
    server = ServerProcess(real_dist, env)
    try:
        server.wait_ready()
        answers = [
            requests.get(f"{server.url}/sparql", params={"query": ENDLESS}, timeout=30)
            for _ in range(2)
        ]
    finally:
        server.stop()
    assert [(a.status_code, a.json()["reason"], "ETag" in a.headers) for a in answers] == [
        (503, "timeout", False),
        (503, "timeout", False),
    ]

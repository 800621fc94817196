"""Read-only and safe by default: hard timeouts that do not block other queries, no SERVICE and
no remote FROM (proved by a listening socket that must see no connection), no update, size
limits with explicit statuses, CORS on every answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from server.stores.store import QueryRefused, UpdateRefused, analyze_query
from tests.loopback import Listener

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"


@pytest.fixture
def listener() -> Iterator[Listener]:
    watched = Listener()
    yield watched
    watched.close()


def test_timeout_stops_the_query_while_others_are_served(sparql_url: str) -> None:
    outcome: dict[str, object] = {}

    def slow() -> None:
        started = time.monotonic()
        response = requests.get(
            sparql_url, params={"query": CROSS_JOIN, "timeout": "2"}, timeout=30
        )
        outcome["status"] = response.status_code
        outcome["message"] = response.json()["message"]
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.4)
    started = time.monotonic()
    quick = requests.get(sparql_url, params={"query": SIMPLE, "format": "csv"}, timeout=30)
    quick_seconds = time.monotonic() - started
    thread.join(timeout=30)
    assert quick.status_code == 200
    assert quick_seconds < 1.0
    assert outcome["status"] == 503
    assert "2 s" in str(outcome["message"])
    assert 1.9 <= float(str(outcome["seconds"])) < 6
    # The killed worker was replaced: the endpoint keeps answering.
    again = requests.get(sparql_url, params={"query": "ASK {}"}, timeout=10)
    assert again.status_code == 200


def test_timeout_in_milliseconds(sparql_url: str) -> None:
    started = time.monotonic()
    response = requests.get(
        sparql_url, params={"query": CROSS_JOIN + " # ms", "timeout": "500ms"}, timeout=30
    )
    assert response.status_code == 503
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_bad_timeout_is_400(sparql_url: str, value: str) -> None:
    response = requests.get(sparql_url, params={"query": "ASK {}", "timeout": value}, timeout=10)
    assert response.status_code == 400
    assert "timeout" in response.json()["message"]


def test_service_and_remote_datasets_open_no_connection(
    sparql_url: str, listener: Listener
) -> None:
    remote = f"http://127.0.0.1:{listener.port}/sparql"
    refused = [
        f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{remote}> {{ ?s ?p ?o }} }}",
        f"ASK {{ OPTIONAL {{ service <{remote}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ VALUES ?x {{ <{remote}> }} SERVICE ?x {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT * {{ SERVICE <{remote}> {{ ?s ?p ?o }} }} }}"
        " }",
    ]
    for query in refused:
        response = requests.get(sparql_url, params={"query": query}, timeout=10)
        assert response.status_code == 400, query
        assert "SERVICE" in response.json()["message"]
    answered = [
        ({"query": f"SELECT * FROM <{remote}> WHERE {{ ?s ?p ?o }}"}, 0),
        ({"query": f"SELECT * FROM NAMED <{remote}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}, 0),
        ({"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}, 0),
        ({"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": remote}, 0),
        ({"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": remote}, 0),
    ]
    for params, rows in answered:
        response = requests.get(sparql_url, params=params, timeout=10)
        assert response.status_code == 200, params
        assert len(response.json()["results"]["bindings"]) == rows
    load = requests.post(sparql_url, data={"update": f"LOAD <{remote}>"}, timeout=10)
    assert load.status_code == 403
    time.sleep(0.3)
    assert listener.connections == 0


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <https://w3id.org/dcdr/graph/facts>",
    ],
)
def test_updates_are_refused(sparql_url: str, query: str) -> None:
    as_query = requests.get(sparql_url, params={"query": query}, timeout=10)
    assert as_query.status_code == 400
    assert "read-only" in as_query.json()["message"]
    as_update = requests.post(
        sparql_url,
        data=query.encode(),
        headers={"Content-Type": "application/sparql-update"},
        timeout=10,
    )
    assert as_update.status_code == 403
    still = requests.get(sparql_url, params={"query": SIMPLE}, timeout=10)
    assert len(still.json()["results"]["bindings"]) == 3


@pytest.mark.parametrize(
    "content_type", ["application/sparql-query", "application/x-www-form-urlencoded"]
)
def test_ten_megabyte_body_is_413(sparql_url: str, content_type: str) -> None:
    body = b"query=" + b"A" * (10 * 1024 * 1024)
    response = requests.post(
        sparql_url, data=body, headers={"Content-Type": content_type}, timeout=30
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_overlong_query_is_413(sparql_url: str) -> None:
    query = "ASK {}" + " " * 100_001
    response = requests.post(
        sparql_url,
        data=query.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert response.status_code == 413
    assert "characters" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", "/sparql", {"query": "ASK {}"}, 200),
        ("GET", "/sparql", {"query": "ASK {"}, 400),
        ("GET", "/no-such-page", {}, 404),
        ("PUT", "/sparql", {"query": "ASK {}"}, 405),
        ("GET", "/sparql", {"query": CROSS_JOIN + " # cors", "timeout": "0.3"}, 503),
        ("GET", "/sparql", {"query": "SELECT * {}", "format": "png"}, 400),
        ("GET", "/healthz", {}, 200),
    ],
)
def test_cors_on_every_answer(
    server_url: str, method: str, path: str, params: dict[str, str], status: int
) -> None:

    response = requests.request(method, server_url + path, params=params, timeout=10)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Traceback" not in response.text


def test_cors_preflight(sparql_url: str) -> None:
    response = requests.options(
        sparql_url,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_allow_list_lets_named_services_through() -> None:
    query = "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryRefused):
        analyze_query(query)
    plan = analyze_query(query, ("https://query.wikidata.org/sparql",))
    assert plan.services == ("https://query.wikidata.org/sparql",)
    with pytest.raises(UpdateRefused):
        analyze_query("CLEAR ALL")


def test_query_checks_are_safe_across_threads() -> None:
    # The server's threads check distinct queries at once (rdflib's parser, used here before,
    # was not thread-safe).
    from concurrent.futures import ThreadPoolExecutor

    queries = [
        f"SELECT ?s (COUNT(?o) AS ?n{i}) WHERE {{ ?s ?p ?o FILTER(?o != {i}) }} GROUP BY ?s"
        for i in range(160)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        plans = list(pool.map(analyze_query, queries))
    assert all(plan.form == "select" and plan.limit is None for plan in plans)

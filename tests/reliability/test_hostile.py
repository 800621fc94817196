"""Hostile input: every malformed request gets a 4xx with a message, never a 500 and never a
hang; expensive but valid queries end in 200 or a 503 within the time limit; no request reaches
outside the dataset; nothing echoed into HTML runs as script."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.loopback import Listener
from tests.reliability.conftest import running
from tests.server_fixtures import ServerProcess

TIMEOUT = 2.0
# A hang is anything past the server's time limit plus start-up slack.
CLIENT_TIMEOUT = TIMEOUT + 15
PASSWD_LINE = "root:x:0:0"
XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def hostile_server(reliability_dist: Path) -> Iterator[ServerProcess]:
    with running(reliability_dist, DCDR_TIMEOUT=str(TIMEOUT), DCDR_WORKERS="2") as server:
        yield server


def _message(response: requests.Response) -> str:
    try:
        return str(json.loads(response.content)["message"])
    except (ValueError, KeyError, TypeError):
        return response.text


def assert_refused(response: requests.Response) -> None:
    """A 4xx that says why, with no trace of the server's insides."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert _message(response).strip()
    assert "Traceback" not in response.text


def _post_query(url: str, body: bytes) -> requests.Response:
    return requests.post(
        url + "/sparql",
        data=body,
        headers={"Content-Type": "application/sparql-query"},
        timeout=CLIENT_TIMEOUT,
    )


MALFORMED = {
    "nul bytes": b"SELECT * WHERE { ?s ?p \x00 ?o }",
    "invalid utf-8": b"SELECT * WHERE { ?s ?p \xff\xfe ?o }",
    "random bytes": bytes(range(256)) * 4,
    "one megabyte": b"SELECT * WHERE { " + b"?s ?p ?o . " * 100_000 + b"}",
    "10000 nested groups": b"SELECT * WHERE " + b"{" * 10_000 + b"}" * 10_000,
    "deep path brackets": b"SELECT * WHERE { ?s "
    + b"(" * 5000
    + b"<urn:p>"
    + b")" * 5000
    + b" ?o }",
    "deep negation": b"SELECT * WHERE { FILTER(" + b"!" * 20_000 + b"true) }",
    "nested blank nodes": b"SELECT * WHERE { ?s <urn:p> "
    + b"[<urn:p> " * 800
    + b"1"
    + b"]" * 800
    + b"}",
    "insert data": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "load": b"LOAD <file:///etc/passwd>",
    "unknown function": b"SELECT (<http://example.org/no-such-function>(1) AS ?x) WHERE {}",
    "wrong arity": b"SELECT (<http://www.w3.org/2001/XMLSchema#integer>() AS ?x) WHERE {}",
    "unterminated": b'SELECT * WHERE { ?s ?p "never closed }',
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_query_is_refused_with_a_message(
    hostile_server: ServerProcess, name: str
) -> None:
    assert_refused(_post_query(hostile_server.url, MALFORMED[name]))


def test_regression_worker_crash_on_deep_nesting(hostile_server: ServerProcess) -> None:
    # 10 000 nested groups overflowed Oxigraph's parser stack and killed the worker (503).
    nested = b"SELECT * WHERE " + b"{" * 10_000 + b"}" * 10_000
    assert _post_query(hostile_server.url, nested).status_code == 400


def test_regression_unknown_function_killed_the_worker(hostile_server: ServerProcess) -> None:
    # Oxigraph raises RuntimeError for an unknown function; it escaped the worker, killing it.
    unknown = b"SELECT (<http://example.org/f>(1) AS ?x) WHERE {}"
    assert _post_query(hostile_server.url, unknown).status_code == 400


EXPENSIVE = {
    "long path sequence": "SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 3000) + " ?o }",
    "starred path chain": "SELECT * WHERE { ?s " + "<urn:p>*/" * 2000 + "<urn:p> ?o }",
    "huge values": "SELECT * WHERE { VALUES ?x { "
    + " ".join(str(n) for n in range(15_000))
    + " } }",
    "catastrophic regex": 'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(CONCAT(STR(?o), "'
    + "a" * 40
    + '!"), "^(a+)+$")) }',
    "cross join": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "file dataset": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
def test_expensive_query_answers_or_stops_in_time(hostile_server: ServerProcess, name: str) -> None:
    started = time.monotonic()
    response = _post_query(hostile_server.url, EXPENSIVE[name].encode())
    assert response.status_code in (200, 503), response.text[:300]
    assert time.monotonic() - started < TIMEOUT + 10
    assert PASSWD_LINE not in response.text
    if response.status_code == 503:
        assert "Retry-After" in response.headers and _message(response)


def test_service_to_loopback_is_refused_without_a_connection(
    hostile_server: ServerProcess,
) -> None:
    listener = Listener()
    try:
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"
        assert_refused(_post_query(hostile_server.url, query.encode()))
        time.sleep(0.3)
        assert listener.connections == 0
    finally:
        listener.close()


# ---- HTTP abuse --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405_with_allow(hostile_server: ServerProcess, method: str) -> None:
    response = requests.request(
        method, hostile_server.url + "/sparql", params={"query": "ASK {}"}, timeout=10
    )
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert_refused(response)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-bogus", "application/sparql-query; charset=latin-1", "text/plain", ""],
)
def test_bogus_content_type_is_refused(hostile_server: ServerProcess, content_type: str) -> None:
    response = requests.post(
        hostile_server.url + "/sparql",
        data=b"ASK {}",
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert_refused(response)


def test_hundred_query_parameters_are_refused(hostile_server: ServerProcess) -> None:
    params = [("query", "ASK {}")] * 100
    response = requests.get(hostile_server.url + "/sparql", params=params, timeout=10)
    assert_refused(response)
    assert "100" in _message(response)


def test_header_flood_is_refused(hostile_server: ServerProcess) -> None:
    headers = {f"X-Flood-{n}": "x" * 100 for n in range(200)}
    response = requests.get(
        hostile_server.url + "/sparql", params={"query": "ASK {}"}, headers=headers, timeout=10
    )
    # More than 100 fields never reach the app: the HTTP layer (granian) refuses them with a
    # bodiless 431 whose reason phrase is the message.
    assert response.status_code == 431 and response.reason == "Request Header Fields Too Large"
    huge = requests.get(
        hostile_server.url + "/sparql",
        params={"query": "ASK {}"},
        headers={"X-Huge": "y" * 20_000},
        timeout=10,
    )
    assert_refused(huge)


def _raw(url: str, target: str) -> tuple[int, str]:
    """GET `target` exactly as written (no client-side normalization of dots or escapes)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", errors="replace")


TRAVERSALS = [
    "/id/../../etc/passwd",
    "/id/%2e%2e/%2e%2e/etc/passwd",
    "/id/..%2f..%2f..%2fetc%2fpasswd",
    "/id/%252e%252e%252fetc%252fpasswd",
    "/id/....//....//etc/passwd",
    "/dumps/../../../../etc/passwd",
    "/dumps/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/dumps/%2e%2e%2f%2e%2e%2fSHA256SUMS",
    "/dumps/..%5c..%5cetc%5cpasswd",
    "/static/../../../../etc/passwd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_reaches_nothing(hostile_server: ServerProcess, target: str) -> None:
    status, body = _raw(hostile_server.url, target)
    assert 400 <= status < 500, (status, body[:200])
    assert PASSWD_LINE not in body


XSS_REQUESTS = [
    ("/search", {"q": XSS}),
    ("/search", {"q": "x", "lang": XSS}),
    ("/sparql", {"query": XSS}),
    ("/sparql", {"query": f"SELECT * WHERE {{ ?s ?p '{XSS}' }}"}),
    ("/sparql", {"query": "ASK {}", "format": XSS}),
    ("/", {"lang": XSS}),
    ("/class/" + XSS.replace("/", "%2F"), {}),
    ("/ontology", {"lang": XSS}),
]


@pytest.mark.parametrize(("path", "params"), XSS_REQUESTS)
def test_xss_payloads_are_escaped_in_html(
    hostile_server: ServerProcess, path: str, params: dict[str, str]
) -> None:
    response = requests.get(
        hostile_server.url + path,
        params=params,
        headers={"Accept": "text/html"},
        timeout=CLIENT_TIMEOUT,
    )
    assert response.status_code < 500, response.text[:300]
    assert "<script>alert(1)</script>" not in response.text
    assert "onerror=alert(2)>" not in response.text


def test_slow_clients_do_not_block_others(hostile_server: ServerProcess) -> None:
    """Clients that send their request one byte a second (fewer than the server's threads:
    each pins one gthread thread while it sends, see docs/reliability.md)."""
    host, port = hostile_server.url.removeprefix("http://").split(":")
    request = b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n"
    slow = [socket.create_connection((host, int(port)), timeout=10) for _ in range(3)]
    stop = threading.Event()

    def trickle() -> None:
        for byte in request[:-4]:
            if stop.is_set():
                return
            for connection in slow:
                with contextlib.suppress(OSError):
                    connection.sendall(bytes([byte]))
            time.sleep(1.0)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(2.5)
        latencies = []
        for _ in range(10):
            started = time.monotonic()
            response = requests.get(
                hostile_server.url + "/sparql", params={"query": "ASK {}"}, timeout=10
            )
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200
        assert max(latencies) < 2.0
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in slow:
            connection.close()


def test_server_survives_the_abuse(hostile_server: ServerProcess) -> None:
    # Last in the module: whatever came before, the same server still answers.
    assert hostile_server.process.poll() is None
    response = requests.get(
        hostile_server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10
    )
    assert response.status_code == 200
    assert os.path.exists(f"/proc/{hostile_server.process.pid}")


def test_regression_resource_path_with_invalid_iri_characters(
    hostile_server: ServerProcess,
) -> None:
    # /id/ paths holding characters no IRI may hold (> " space) reached rdflib's n3() → 500.
    status, _ = _raw(
        hostile_server.url, "/id/agency/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cimg%20src=x%3E"
    )
    assert 400 <= status < 500

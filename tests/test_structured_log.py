"""The server's own JSON lines (server/structured_log.py) as a real `dcdr serve` writes them:
start and stop, and one line per failed query whose reason tells a timeout, a store that is
down and a store that answers with an error apart, with the time the query really took."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.server_fixtures import ServerProcess, children, free_port

pytest_plugins = ("tests.server_fixtures",)

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# Connected through ?t, so it looks cheap and runs in the worker under the watchdog, which
# answers 503 at the limit and has the worker replaced (tests/reliability/test_runaway_queries).
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?t . ?b a ?t . ?c a ?t . ?d a ?t }"


def lines(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]


def events(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    return [entry for entry in lines(server) if entry.get("event") == name]


class _Failing(BaseHTTPRequestHandler):
    """A SPARQL store that is up but answers every request with an error of its own."""

    def do_POST(self) -> None:
        body = b"Virtuoso 42000 Error: the database is being backed up"
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def failing_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()


def test_start_and_stop_lines(sample_dist: Path) -> None:
    server = ServerProcess(sample_dist, {"DCDR_WORKERS": "2", "DCDR_ROW_LIMIT": "123"})
    try:
        server.wait_ready()
        version = requests.get(server.url + "/healthz", timeout=10).json()["version"]
    finally:
        server.stop()
    (start,) = events(server, "start")
    (stop,) = events(server, "stop")
    assert (start["graph_version"], start["store"]) == (version, "embedded")
    assert start["settings"]["row_limit"] == 123
    assert start["settings"]["workers"] == 2
    assert start["software_version"]
    assert start["pid"] == stop["pid"] == server.process.pid
    assert stop["exit_code"] == 0
    assert stop["uptime_s"] > 0


def test_a_timed_out_query_is_logged_with_its_true_duration(sample_dist: Path) -> None:
    server = ServerProcess(sample_dist, {"DCDR_ACCESS_LOG": "true", "DCDR_WORKERS": "1"})
    try:
        server.wait_ready()
        answer = requests.get(
            server.url + "/sparql", params={"query": CROSS_JOIN, "timeout": "0.5"}, timeout=30
        )
    finally:
        server.stop()
    assert answer.status_code == 503
    (failed,) = events(server, "query_failed")
    assert failed["reason"] == "timeout"
    assert failed["duration_ms"] >= 500
    assert failed["timeout_s"] == 0.5
    (logged,) = [entry for entry in lines(server) if entry.get("status") == 503]
    assert logged["duration_ms"] >= 500, logged


def test_slow_queries_are_logged(sample_dist: Path) -> None:
    environment = {"DCDR_SLOW_QUERY_SECONDS": "0.000001", "DCDR_LOG_QUERY_TEXT": "true"}
    server = ServerProcess(sample_dist, {**environment, "DCDR_WORKERS": "1"})
    try:
        server.wait_ready()
        answer = requests.get(server.url + "/sparql", params={"query": QUERY}, timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 200
    (slow,) = events(server, "slow_query")
    assert slow["query"] == QUERY
    assert slow["duration_ms"] > 0


def test_store_down_and_store_error_are_told_apart(sample_dist: Path) -> None:
    reasons = {}
    with failing_store() as failing:
        # The URL's credentials must never reach the log.
        failing = failing.replace("http://", "http://dba:secret@")
        for name, url in (("down", f"http://127.0.0.1:{free_port()}/sparql"), ("error", failing)):
            environment = {"DCDR_STORE": f"sparql:{url}", "DCDR_STORE_VERSION": "v1"}
            server = ServerProcess(sample_dist, {**environment, "DCDR_WORKERS": "1"})
            try:
                server.wait_ready()
                answer = requests.get(server.url + "/sparql", params={"query": QUERY}, timeout=30)
            finally:
                server.stop()
            assert answer.status_code == 503
            assert "secret" not in server.output()
            (failed,) = events(server, "query_failed")
            reasons[name] = failed["reason"]
    assert reasons == {"down": "store_unavailable", "error": "store_error"}


def _timeouts(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name == "dcdr_query_timeouts":
            return float(family.samples[0].value)
    raise AssertionError("no dcdr_query_timeouts in /metrics")


@pytest.mark.slow
def test_a_query_given_up_by_the_watchdog_is_logged_and_counted_once(sample_dist: Path) -> None:
    server = ServerProcess(sample_dist, {"DCDR_WORKERS": "1", "DCDR_CACHE_BYTES": "0"})
    try:
        server.wait_ready()
        workers = set(children(server.process.pid))
        answer = requests.get(
            server.url + "/sparql", params={"query": RUNAWAY, "timeout": "1"}, timeout=30
        )
        # The worker is replaced; its count stays in the run's metrics directory.
        deadline = time.monotonic() + 30
        while set(children(server.process.pid)) & workers and time.monotonic() < deadline:
            time.sleep(0.2)
        server.wait_ready()
        replaced = not set(children(server.process.pid)) & workers
        counted = _timeouts(server.url)
    finally:
        server.stop()
    assert (answer.status_code, replaced) == (503, True)
    (failed,) = events(server, "query_failed")
    assert (failed["reason"], failed["timeout_s"]) == ("timeout", 1.0)
    assert failed["duration_ms"] >= 1000
    assert counted == 1

"""`/metrics` of a real `dcdr serve` with two worker processes on loopback, read with
prometheus_client's own parser: every counter moves after the requests that should move it,
whichever worker answered them and whichever answers the scrape."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from server.protocol.metrics import FLUSH_SECONDS
from tests.server_fixtures import ROW_LIMIT, ServerProcess, descendants, free_port

pytest_plugins = ("tests.server_fixtures",)

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
ALL_OBSERVATIONS = "SELECT ?o WHERE { ?o a <https://w3id.org/dcdr/ontology#Observation> }"
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """The samples once what the workers noted before has been written (server/protocol/metrics.py
    writes the bridge's counts in batches)."""
    time.sleep(2 * FLUSH_SECONDS)
    answer = requests.get(url + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def server(sample_dist: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        sample_dist,
        {"DCDR_WORKERS": "2", "DCDR_THREADS": "2", "DCDR_ROW_LIMIT": str(ROW_LIMIT)},
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def metrics_files(server: ServerProcess) -> set[Path]:
    """The files of the run's metrics directory, found through the workers' memory maps."""
    found: set[Path] = set()
    for pid in descendants(server.process.pid):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        found.update(Path(path) for path in re.findall(r"(/\S*dcdr-metrics-\S+\.db)", maps))
    return found


def test_a_scrape_sums_every_worker(server: ServerProcess) -> None:
    before = scrape(server.url)
    # A new connection per request: the two workers share them.
    for number in range(40):
        query = f"{QUERY} # {number}"
        answer = requests.get(server.url + "/sparql", params={"query": query}, timeout=10)
        assert answer.status_code == 200
    files = metrics_files(server)
    writers = {path.stem.rsplit("_", 1)[1] for path in files if path.name.startswith("counter_")}
    assert len(writers) >= 2, files  # both workers answered and counted
    for _ in range(6):  # scrapes answered by either worker
        after = scrape(server.url)
        labels = {"route": "/sparql", "method": "GET", "status": "200"}
        assert moved(before, after, "dcdr_http_requests_total", **labels) == 40


def test_replayed_answers_count_as_requests_and_cache_hits(server: ServerProcess) -> None:
    with requests.Session() as session:  # one connection, so one worker and its cache
        query = QUERY + " # replayed"
        session.get(server.url + "/sparql", params={"query": query}, timeout=10)
        before = scrape(server.url)
        for _ in range(3):
            answer = session.get(server.url + "/sparql", params={"query": query}, timeout=10)
            assert answer.status_code == 200
    after = scrape(server.url)
    assert moved(before, after, "dcdr_cache_hits_total", cache="response") == 3
    assert (
        moved(
            before, after, "dcdr_http_requests_total", route="/sparql", method="GET", status="200"
        )
        == 3
    )


def test_result_cache_hits_are_counted(server: ServerProcess) -> None:
    # POSTed queries are never replayed whole: the second is answered from the result cache.
    with requests.Session() as session:  # one connection, so one worker and its cache
        before = scrape(server.url)
        for _ in range(2):
            data = {"query": QUERY + " # posted"}
            assert session.post(server.url + "/sparql", data=data, timeout=10).ok
    after = scrape(server.url)
    assert moved(before, after, "dcdr_cache_misses_total", cache="result") == 1
    assert moved(before, after, "dcdr_cache_hits_total", cache="result") == 1


def test_pages_are_counted_by_route(server: ServerProcess) -> None:
    before = scrape(server.url)
    for slug in ("ndrc", "cac", "spc"):
        answer = requests.get(server.url + f"/id/agency/{slug}", timeout=10)
        assert answer.status_code == 200
    missing = requests.get(server.url + "/no/such/page", timeout=10)
    after = scrape(server.url)
    route = "/id/<path:rest>"
    assert moved(before, after, "dcdr_http_requests_total", route=route, method="GET", status="200")
    assert (
        moved(before, after, "dcdr_http_request_duration_seconds_count", route=route)
        == moved(before, after, "dcdr_http_requests_total", route=route, method="GET", status="200")
        == 3
    )
    bucket = {"route": route, "le": "+Inf"}
    assert moved(before, after, "dcdr_http_request_duration_seconds_bucket", **bucket) == 3
    status = str(missing.status_code)
    labels = {"route": "(unmatched)", "method": "GET", "status": status}
    assert moved(before, after, "dcdr_http_requests_total", **labels) == 1


def test_row_cap_and_query_durations(server: ServerProcess) -> None:
    before = scrape(server.url)
    answer = requests.get(
        server.url + "/sparql", params={"query": ALL_OBSERVATIONS + " # capped"}, timeout=10
    )
    assert answer.headers["X-DCDR-Result-Truncated"] == "true"
    after = scrape(server.url)
    assert moved(before, after, "dcdr_row_cap_hits_total") == 1
    assert moved(before, after, "dcdr_query_duration_seconds_count", outcome="ok") == 1


def test_timeouts_are_counted(server: ServerProcess) -> None:
    before = scrape(server.url)
    answer = requests.get(
        server.url + "/sparql", params={"query": CROSS_JOIN, "timeout": "0.5"}, timeout=30
    )
    assert answer.status_code == 503
    after = scrape(server.url)
    assert moved(before, after, "dcdr_query_timeouts_total") == 1
    assert moved(before, after, "dcdr_query_duration_seconds_count", outcome="timeout") == 1
    # Its true duration: at least the limit it ran into.
    assert moved(before, after, "dcdr_query_duration_seconds_sum", outcome="timeout") >= 0.5


def test_graph_version_is_a_label(server: ServerProcess) -> None:
    version = requests.get(server.url + "/healthz", timeout=10).json()["version"]
    samples = scrape(server.url)
    assert value(samples, "dcdr_graph_version_info", version=version) == 1


def test_metrics_are_never_cached(server: ServerProcess) -> None:
    answer = requests.get(server.url + "/metrics", timeout=10)
    assert answer.headers["Cache-Control"] == "no-store"


def test_store_errors_are_counted(sample_dist: Path) -> None:
    down = f"sparql:http://127.0.0.1:{free_port()}/query"
    # With the version given: without it, the version is asked of the store first.
    environment = {"DCDR_STORE": down, "DCDR_STORE_VERSION": "v1", "DCDR_WORKERS": "2"}
    process = ServerProcess(sample_dist, environment)
    try:
        process.wait_ready()
        before = scrape(process.url)
        answer = requests.get(process.url + "/sparql", params={"query": QUERY}, timeout=30)
        after = scrape(process.url)
    finally:
        process.stop()
    assert answer.status_code == 503
    assert moved(before, after, "dcdr_store_errors_total", reason="unavailable") == 1
    labels = {"route": "/sparql", "method": "GET", "status": "503"}
    assert moved(before, after, "dcdr_http_requests_total", **labels) == 1


def test_the_metrics_directory_is_removed_at_stop(sample_dist: Path) -> None:
    process = ServerProcess(sample_dist, {"DCDR_WORKERS": "2"})
    try:
        process.wait_ready()
        requests.get(process.url + "/sparql", params={"query": QUERY}, timeout=10)
        folders = {path.parent for path in metrics_files(process)}
    finally:
        process.stop()
    assert len(folders) == 1
    assert not next(iter(folders)).exists()

"""Liveness and readiness: `/healthz` answers without the store, `/readyz` only once the store
answers and the graph version is known, against real servers on loopback (the embedded store,
and the remote store down, then an Oxigraph server started on its port)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import requests

from graph.publish import publish
from tests import test_remote_store as remote
from tests.server_fixtures import ServerProcess, free_port

pytest_plugins = ("tests.server_fixtures",)


def _ready_within(url: str, seconds: float) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        answer = requests.get(url + "/readyz", timeout=10)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_ready_with_the_embedded_store(server_url: str) -> None:
    answer = requests.get(server_url + "/readyz", timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["store"], len(body["version"])) == ("ready", "embedded", 16)
    assert answer.headers["Cache-Control"] == "no-store"


def test_health_and_readiness_are_never_cached(server_url: str) -> None:
    for path in ("/healthz", "/readyz"):
        answer = requests.get(server_url + path, timeout=10)
        assert answer.headers["Cache-Control"] == "no-store", path


def test_remote_store_down_then_up(sample_dist: Path, tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        sample_dist, {"DCDR_STORE": f"sparql:http://127.0.0.1:{port}/query", "DCDR_WORKERS": "1"}
    )
    try:
        server.wait_ready()  # /healthz: alive although no store answers
        down = requests.get(server.url + "/readyz", timeout=10)
        dist = remote.write_dist(tmp_path / "dist", remote.fixture_dataset())
        with remote.oxigraph_server(tmp_path / "oxigraph", port=port) as base:
            publish(dist, f"{base}/store")
            up = _ready_within(server.url, 30)
    finally:
        server.stop()
    assert down.status_code == 503
    assert down.headers["Cache-Control"] == "no-store"
    assert "unavailable" in down.json()["reason"]
    assert up.status_code == 200, up.text
    assert up.json()["version"].startswith("remote-")


def test_queries_get_503_while_a_remote_stores_version_cannot_be_learnt(
    sample_dist: Path,
) -> None:
    down = f"sparql:http://127.0.0.1:{free_port()}/query"
    server = ServerProcess(sample_dist, {"DCDR_STORE": down, "DCDR_WORKERS": "1"})
    query = {"query": "ASK {}"}
    try:
        server.wait_ready()
        direct = requests.get(server.url + "/sparql", params=query, timeout=30)
        posted = requests.post(server.url + "/sparql", data=query, timeout=30)
    finally:
        server.stop()
    assert (direct.status_code, posted.status_code) == (503, 503)
    assert "graph version is not known" in direct.json()["message"]


def test_a_silent_store_is_not_ready_within_the_probe_timeout(sample_dist: Path) -> None:
    # A socket that accepts connections (kernel backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        store = f"sparql:http://127.0.0.1:{silent.getsockname()[1]}/query"
        server = ServerProcess(sample_dist, {"DCDR_STORE": store, "DCDR_WORKERS": "1"})
        try:
            server.wait_ready()
            answer = requests.get(server.url + "/readyz", timeout=30)
        finally:
            server.stop()
    assert answer.status_code == 503
    # The probe's own short limit, not the server's query limit (10 s).
    assert answer.json()["reason"] == "the store did not answer a trivial query within 2 s"


@pytest.mark.parametrize("setting", ["sparql:http://u:secret@127.0.0.1:1/query"])
def test_store_credentials_are_not_shown(setting: str) -> None:
    from server.structured_log import describe_store

    assert describe_store(setting) == "sparql:http://127.0.0.1:1/query"

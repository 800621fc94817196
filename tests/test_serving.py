"""Serving: granian start-up from a built dist, refusal of a damaged dist with one clear line,
/healthz, the structured access log, settings from DCDR_* variables."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from server.config import ConfigError, Settings
from tests.server_fixtures import PROJECT, ServerProcess, serve_refused_dist, write_dist

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"


@pytest.fixture
def damaged(sample_dist: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dist"
    shutil.copytree(sample_dist, copy)
    return copy


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("truncate", "corrupted or truncated"),
        ("corrupt", "corrupted or truncated"),
        ("remove", "missing"),
        ("no-sums", "SHA256SUMS"),
        ("no-dist", "no built dataset"),
    ],
)
def test_a_damaged_dist_is_refused_with_one_clear_message(
    damaged: Path, damage: str, words: str
) -> None:
    dump = damaged / "dcdr.nq"
    if damage == "truncate":
        dump.write_bytes(dump.read_bytes()[:100])
    elif damage == "corrupt":
        data = bytearray(dump.read_bytes())
        data[10] ^= 0x01
        dump.write_bytes(bytes(data))
    elif damage == "remove":
        (damaged / "dcdr.trig").unlink()
    elif damage == "no-sums":
        (damaged / "SHA256SUMS").unlink()
    else:
        shutil.rmtree(damaged)
    completed = serve_refused_dist(damaged)
    assert completed.returncode == 1
    assert words in completed.stderr
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_bad_setting_is_refused(sample_dist: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.front.serving",
            "--dist",
            str(sample_dist),
            "--timeout",
            "soon",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert "timeout" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_access_log_restart_and_health(sample_dist: Path, tmp_path: Path) -> None:
    server = ServerProcess(sample_dist, {"DCDR_ACCESS_LOG": "true"})
    try:
        server.wait_ready()
        first = requests.get(server.url + "/sparql", params={"query": QUERY}, timeout=10)
        health = requests.get(server.url + "/healthz", timeout=10)
    finally:
        server.stop()
    assert first.status_code == 200
    assert first.headers["Server"].startswith("granian")
    assert health.json()["status"] == "ok"
    entries = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    query_entries = [entry for entry in entries if entry.get("path") == "/sparql"]
    assert query_entries, server.output()
    entry = query_entries[0]
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["bytes"] == len(first.content)
    assert entry["duration_ms"] >= 0
    assert len(entry["query_hash"]) == 16
    assert "query" not in entry
    assert QUERY not in server.output()

    # The same build after a restart: the same version, ETags and answers.
    again = ServerProcess(sample_dist)
    try:
        again.wait_ready()
        second = requests.get(again.url + "/sparql", params={"query": QUERY}, timeout=10)
        health_again = requests.get(again.url + "/healthz", timeout=10)
    finally:
        again.stop()
    assert health_again.json()["version"] == health.json()["version"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.content == first.content

    # Another build (one more file listed) is another version.
    other = write_dist(tmp_path / "other")
    (other / "extra.txt").write_text("x", encoding="utf-8")
    with (other / "SHA256SUMS").open("a", encoding="utf-8") as sums:
        sums.write("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  extra.txt\n")
    third = ServerProcess(other)
    try:
        third.wait_ready()
        requests.get(third.url + "/sparql", params={"query": QUERY}, timeout=10)
        health_other = requests.get(third.url + "/healthz", timeout=10)
    finally:
        third.stop()
    # Start-up time is a benchmark figure (bench/endpoint.py), never a timed assertion here.
    assert health_other.json()["version"] != health.json()["version"]


def test_query_text_is_logged_only_when_asked(sample_dist: Path) -> None:
    server = ServerProcess(
        sample_dist,
        {"DCDR_ACCESS_LOG": "true", "DCDR_LOG_QUERY_TEXT": "true", "DCDR_WORKERS": "1"},
    )
    try:
        server.wait_ready()
        requests.get(server.url + "/sparql", params={"query": QUERY}, timeout=10)
    finally:
        server.stop()
    entries = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    assert any(entry.get("query") == QUERY for entry in entries)


def test_healthz_names_the_version(server_url: str) -> None:
    response = requests.get(server_url + "/healthz", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert len(body["version"]) == 16


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "DCDR_TIMEOUT": "5",
            "DCDR_ROW_LIMIT": "7",
            "DCDR_SERVICE_ALLOWLIST": "https://a.example/sparql, https://b.example/sparql",
            "DCDR_LOG_QUERY_TEXT": "yes",
            "DCDR_DIST": "/srv/dist",
        }
    )
    assert settings.timeout == 5.0
    assert settings.row_limit == 7
    assert settings.service_allowlist == ("https://a.example/sparql", "https://b.example/sparql")
    assert settings.log_query_text is True
    assert settings.dist == Path("/srv/dist")
    assert settings.replace(threads="6").pool_size == 3
    assert settings.replace(threads="3", query_isolation="process").pool_size == 3
    with pytest.raises(ConfigError):
        Settings.from_env({"DCDR_WORKERS": "many"})
    with pytest.raises(ConfigError):
        Settings().replace(timeout=0)
    with pytest.raises(ConfigError):
        Settings().replace(colour="blue")
    with pytest.raises(ConfigError):
        Settings().replace(query_isolation="threads")

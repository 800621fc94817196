"""Read scaling (docs/deploy.md): stateless replicas, each with its own copy of the immutable
dataset, answer the same request with the same ETag and bytes, so a cache in front of them
(nginx) and clients' conditional requests work whichever replica answers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server_fixtures import ServerProcess

QUERY = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"


@pytest.fixture(scope="module")
def replicas(real_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    servers = []
    try:
        for name in ("replica-a", "replica-b"):
            copy = tmp_path_factory.mktemp(name) / "dist"
            shutil.copytree(real_dist, copy)
            server = ServerProcess(copy, {"DCDR_WORKERS": "1"})
            servers.append(server)
        for server in servers:
            server.wait_ready()
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv"])
def test_replicas_answer_the_same_etag_and_bytes(replicas: list[str], accept: str) -> None:
    answers = [
        requests.get(
            url + "/sparql", params={"query": QUERY}, headers={"Accept": accept}, timeout=20
        )
        for url in replicas
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].headers["ETag"] == answers[1].headers["ETag"]
    assert answers[0].content == answers[1].content


def test_an_etag_from_one_replica_revalidates_at_the_other(replicas: list[str]) -> None:
    first = requests.get(replicas[0] + "/sparql", params={"query": QUERY}, timeout=20)
    again = requests.get(
        replicas[1] + "/sparql",
        params={"query": QUERY},
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=20,
    )
    assert again.status_code == 304

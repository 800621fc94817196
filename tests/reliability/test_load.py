"""Load: many clients send the query mix (GET and POST, every format) and every answer must be
the one a quiet server gave; then the same with one request in ten a timeout-bound cross join,
which must leave the ordinary queries' p99 within 3x and the server's memory within 20%."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import soak

from tests.reliability.conftest import CLIENTS, SECONDS, running
from tests.server_fixtures import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def load_server(reliability_dist: Path) -> Iterator[ServerProcess]:
    # No result cache: every request reaches the query workers, as distinct queries would.
    with running(reliability_dist, DCDR_CACHE_BYTES="0", DCDR_WORKERS="2") as server:
        yield server


@pytest.fixture(scope="module")
def expected(load_server: ServerProcess, mix: list[soak.Case]) -> dict[tuple[str, str], bytes]:
    return soak.fetch_expected(load_server.url + "/sparql", mix)


@pytest.fixture(scope="module")
def memory_before(load_server: ServerProcess, expected: dict[tuple[str, str], bytes]) -> int:
    # After the expected answers, every worker has opened its store and served once. Patterns
    # sharing no variable (and matching nothing) start the killable query processes in every
    # worker too, so that the cross joins later find the server as big as it gets at rest.
    for number in range(8):
        query = f"ASK {{ ?a <urn:x:none> ?b . ?c <urn:x:none> ?d }} # {number}"
        answer = requests.get(load_server.url + "/sparql", params={"query": query}, timeout=30)
        assert answer.status_code == 200
    return soak.tree_rss(load_server.process.pid)


@pytest.fixture(scope="module")
def clean_run(
    load_server: ServerProcess,
    mix: list[soak.Case],
    expected: dict[tuple[str, str], bytes],
    memory_before: int,
) -> soak.LoadReport:
    report = soak.run_load(
        load_server.url + "/sparql", soak.calls_of(mix), expected, CLIENTS, SECONDS
    )
    print("\nclean load:", report.summary())
    return report


def test_clean_load_answers_every_request_correctly(clean_run: soak.LoadReport) -> None:
    assert clean_run.connection_errors == []
    assert clean_run.server_errors == 0
    assert clean_run.mismatches == []
    assert len(clean_run.latencies) > CLIENTS


def test_cross_joins_leave_ordinary_queries_fast_and_memory_bounded(
    load_server: ServerProcess,
    mix: list[soak.Case],
    expected: dict[tuple[str, str], bytes],
    memory_before: int,
    clean_run: soak.LoadReport,
) -> None:
    report = soak.run_load(
        load_server.url + "/sparql",
        soak.calls_of(mix),
        expected,
        CLIENTS,
        SECONDS,
        heavy_every=10,
    )
    print("\nwith cross joins:", report.summary())
    ratio = report.p99 / clean_run.p99
    print(f"p99 ratio {ratio:.2f}")
    assert report.connection_errors == []
    assert report.mismatches == []
    assert report.server_errors == 0
    # The cross joins themselves may only end in an answer or a clear 503 (time limit).
    assert set(report.heavy_statuses) <= {200, 503}
    assert sum(report.heavy_statuses.values()) > 0
    assert ratio <= 3.0
    after = soak.settle_rss(load_server.process.pid, int(memory_before * 1.2))
    print(f"memory: {memory_before / 2**20:.0f} MB before, {after / 2**20:.0f} MB after")
    assert after <= memory_before * 1.2

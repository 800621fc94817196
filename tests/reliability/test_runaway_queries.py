"""A query evaluated in the server process that will not stop (server/stores/runaway.py): its client
gets a 503 at the time limit, the server's workers are replaced gracefully while ordinary
queries keep being answered, and the same query then runs in a killable process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.reliability.conftest import running
from tests.server_fixtures import ServerProcess, children, query_workers

pytestmark = pytest.mark.slow

# Connected through ?t, so it looks cheap and runs in process; over the fixture's 240
# observations it counts 240⁴ rows, far past any time limit.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?t . ?b a ?t . ?c a ?t . ?d a ?t }"
ORDINARY = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"
LIMIT = 1.0


@dataclass
class Outcome:
    status: int = 0
    message: str = ""
    seconds: float = 0.0
    workers_before: set[int] = field(default_factory=set)
    workers_after: set[int] = field(default_factory=set)
    ordinary_statuses: list[int] = field(default_factory=list)
    ordinary_failures: list[str] = field(default_factory=list)


def _wait_for_new_workers(server: ServerProcess, before: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = set(children(server.process.pid))
        if len(current) == len(before) and not current & before:
            return current
        time.sleep(0.2)
    return set(children(server.process.pid))


@pytest.fixture(scope="module")
def server(reliability_dist: Path) -> Iterator[ServerProcess]:
    with running(reliability_dist, DCDR_WORKERS="2", DCDR_THREADS="2", DCDR_CACHE_BYTES="0") as s:
        yield s


@pytest.fixture(scope="module")
def runaway(server: ServerProcess) -> Outcome:
    """Sends the runaway once, with ordinary queries on fresh connections all along."""
    outcome = Outcome(workers_before=set(children(server.process.pid)))
    sparql = server.url + "/sparql"
    done = threading.Event()

    def ordinary() -> None:
        number = 0
        while not done.is_set():
            number += 1
            try:
                answer = requests.get(
                    sparql, params={"query": f"{ORDINARY} # {number}"}, timeout=10
                )
                outcome.ordinary_statuses.append(answer.status_code)
            except requests.RequestException as error:
                outcome.ordinary_failures.append(repr(error))
            time.sleep(0.02)

    background = threading.Thread(target=ordinary)
    background.start()
    try:
        started = time.monotonic()
        answer = requests.get(sparql, params={"query": RUNAWAY, "timeout": str(LIMIT)}, timeout=30)
        outcome.seconds = time.monotonic() - started
        outcome.status = answer.status_code
        outcome.message = answer.json()["message"]
        outcome.workers_after = _wait_for_new_workers(server, outcome.workers_before, 30)
        time.sleep(0.5)  # ordinary queries go on against the new workers
    finally:
        done.set()
        background.join(timeout=30)
    return outcome


def test_a_runaway_is_answered_503_at_its_limit(runaway: Outcome) -> None:
    assert (runaway.status, f"{LIMIT:g} s" in runaway.message, runaway.seconds < LIMIT + 1.5) == (
        503,
        True,
        True,
    )


def test_a_runaway_has_every_worker_replaced(runaway: Outcome) -> None:
    assert runaway.workers_after and not runaway.workers_after & runaway.workers_before


def test_ordinary_queries_are_answered_throughout_the_replacement(runaway: Outcome) -> None:
    assert (runaway.ordinary_failures, set(runaway.ordinary_statuses)) == ([], {200})


def test_a_runaway_sent_again_runs_in_a_killable_process(
    server: ServerProcess, runaway: Outcome
) -> None:
    killable_before = query_workers(server.process.pid)
    answer = requests.get(
        server.url + "/sparql",
        params={"query": RUNAWAY + "  # again", "timeout": str(LIMIT)},
        timeout=30,
    )
    time.sleep(1.0)
    # The killable process that ran it was killed and replaced; the workers stayed.
    assert (
        answer.status_code,
        set(children(server.process.pid)) == runaway.workers_after,
        query_workers(server.process.pid) != killable_before,
    ) == (503, True, True)

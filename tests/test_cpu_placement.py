"""Each server worker on CPUs of its own (server/stores/cpu_placement.py), and the killable query
processes on every CPU the server was given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server.stores.cpu_placement import CpuPlacement, allowed_cpus, cpu_groups
from tests.server_fixtures import ServerProcess, children, query_workers

pytest_plugins = ("tests.server_fixtures",)

# Two groups of variables with nothing in common: the query goes to a killable process.
CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 1"


@pytest.mark.parametrize(
    ("cpus", "workers", "groups"),
    [
        ([0, 1], 2, [{0}, {1}]),
        ([1, 0], 2, [{0}, {1}]),
        (range(8), 2, [{0, 1, 2, 3}, {4, 5, 6, 7}]),
        (range(5), 2, [{0, 1}, {2, 3, 4}]),
        ([2, 3, 6, 7], 4, [{2}, {3}, {6}, {7}]),
        ([0, 1], 3, []),
        ([0], 2, []),
        ([0, 1], 1, []),
    ],
)
def test_cpu_groups(cpus: range | list[int], workers: int, groups: list[set[int]]) -> None:
    assert cpu_groups(cpus, workers) == groups


class FakeMachine:
    """Records pinning and says which worker pids are alive."""

    def __init__(self) -> None:
        self.pinned: list[frozenset[int]] = []
        self.dead: set[int] = set()

    def placement(self, workers: int = 2) -> CpuPlacement:
        return CpuPlacement(
            workers, cpus=[0, 1], pin=self.pinned.append, alive=lambda pid: pid not in self.dead
        )


def test_workers_get_different_groups() -> None:
    machine = FakeMachine()
    placement = machine.placement()
    assert [placement.claim(101), placement.claim(102)] == [{0}, {1}]


def test_replacements_started_before_the_workers_stop_take_the_groups_in_turn() -> None:
    machine = FakeMachine()
    placement = machine.placement()
    placement.claim(101)
    placement.claim(102)
    first = placement.claim(103)  # granian's reload: 103 starts, then 101 stops
    machine.dead.add(101)
    second = placement.claim(104)  # then 104 starts, and 102 stops
    assert [first, second] == [{0}, {1}]


def test_no_groups_no_pinning() -> None:
    machine = FakeMachine()
    assert (machine.placement(workers=3).claim(101), machine.pinned) == (None, [])


def test_a_replacement_worker_takes_the_group_of_the_one_that_ended() -> None:
    machine = FakeMachine()
    placement = machine.placement()
    placement.claim(101)
    placement.claim(102)
    machine.dead.add(101)
    assert placement.claim(103) == {0}


def affinity(pid: int) -> frozenset[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            cpus: set[int] = set()
            for part in line.split(":", 1)[1].strip().split(","):
                first, _, last = part.partition("-")
                cpus.update(range(int(first), int(last or first) + 1))
            return frozenset(cpus)
    raise AssertionError(f"no CPU list for {pid}")


@pytest.fixture
def two_workers(sample_dist: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(sample_dist, {"DCDR_WORKERS": "2", "DCDR_THREADS": "2"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_each_worker_runs_on_its_own_cpus(two_workers: ServerProcess) -> None:
    # On a machine of one CPU there are no groups, and the workers keep it.
    expected = cpu_groups(allowed_cpus(), 2) or [allowed_cpus(), allowed_cpus()]
    workers = children(two_workers.process.pid)
    assert sorted(map(sorted, map(affinity, workers))) == sorted(map(sorted, expected))


def test_query_processes_run_on_every_cpu(two_workers: ServerProcess) -> None:
    answer = requests.get(two_workers.url + "/sparql", params={"query": CARTESIAN}, timeout=30)
    assert answer.status_code == 200
    started = query_workers(two_workers.process.pid)
    assert started and {affinity(pid) for pid in started} == {allowed_cpus()}

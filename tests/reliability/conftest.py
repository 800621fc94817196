"""Fixtures of the reliability suite: the dataset (a fixture dist, or a real build named by
`DCDR_RELIABILITY_DIST`), the query mix, servers on loopback ports, and the time budgets.

Durations come from the environment so that CI stays short and `bench/soak.py` runs the long
versions: `DCDR_RELIABILITY_SECONDS` (each load run, default 6) and `DCDR_RELIABILITY_CLIENTS`
(default 32).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.server_fixtures import ServerProcess, write_dist

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import soak  # noqa: E402  (bench/ is a folder of scripts, not a package)

SECONDS = float(os.environ.get("DCDR_RELIABILITY_SECONDS", "6"))
CLIENTS = int(os.environ.get("DCDR_RELIABILITY_CLIENTS", "32"))
# The fairness ledger stays off unless a test turns it on (a developer's shell may set it).
QUIET_ENV = {"DCDR_QUERY_BUDGET_SECONDS": "0", "DCDR_TRUSTED_PROXY_HEADER": ""}

ServerFactory = Callable[..., ServerProcess]


@pytest.fixture(scope="session")
def reliability_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real build when `DCDR_RELIABILITY_DIST` names one, else the endpoint tests' fixture."""
    named = os.environ.get("DCDR_RELIABILITY_DIST")
    if named:
        return Path(named)
    return write_dist(tmp_path_factory.mktemp("reliability-dist"))


@pytest.fixture(scope="session")
def mix() -> list[soak.Case]:
    return soak.load_mix()


@contextmanager
def running(dist: Path, **env: str) -> Iterator[ServerProcess]:
    """A server on `dist` with settings `env` (DCDR_* names), stopped when the block ends."""
    server = ServerProcess(dist, {**QUIET_ENV, **env})
    try:
        server.wait_ready(60)
        yield server
    finally:
        server.stop()

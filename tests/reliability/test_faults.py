"""Faults: a query worker killed mid-query, the whole server killed under load, corrupted and
truncated dumps, builds killed at every stage and a disk that fills up during a build."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import soak

from graph.build import build
from graph.paths import Project
from tests.conftest import ROOT, copy_mini
from tests.reliability.conftest import QUIET_ENV, SECONDS, running
from tests.server_fixtures import PROJECT, ServerProcess, query_workers

pytestmark = pytest.mark.slow

CROSS_JOIN = soak.CROSS_JOIN
ASK = "ASK { ?s ?p ?o }"


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def test_worker_killed_mid_query_gives_a_clear_503_and_is_replaced(
    reliability_dist: Path,
) -> None:
    with running(
        reliability_dist, DCDR_WORKERS="1", DCDR_THREADS="2", DCDR_QUERY_WORKERS="2"
    ) as server:
        sparql = server.url + "/sparql"
        # Patterns that share no variable go to the killable processes, which start with the
        # first such query.
        started = requests.get(sparql, params={"query": "ASK { ?a ?b ?c . ?d ?e ?f }"}, timeout=30)
        assert started.status_code == 200
        workers = query_workers(server.process.pid)
        assert len(workers) == 2
        outcome: dict[str, requests.Response] = {}
        thread = threading.Thread(
            target=lambda: outcome.setdefault(
                "slow", requests.get(sparql, params={"query": CROSS_JOIN}, timeout=60)
            )
        )
        before = {pid: _cpu_ticks(pid) for pid in workers}
        thread.start()
        time.sleep(1.0)
        busy = max(workers, key=lambda pid: _cpu_ticks(pid) - before[pid])
        os.kill(busy, signal.SIGKILL)
        thread.join(timeout=30)
        slow = outcome["slow"]
        assert slow.status_code == 503
        assert "died" in slow.json()["message"]
        assert "Traceback" not in slow.text
        following = requests.get(sparql, params={"query": ASK}, timeout=30)
        assert following.status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(query_workers(server.process.pid)) < 2:
            time.sleep(0.1)
        replaced = query_workers(server.process.pid)
        assert len(replaced) == 2 and busy not in replaced


def test_server_killed_under_load_restarts_with_byte_identical_answers(
    reliability_dist: Path, mix: list[soak.Case]
) -> None:
    server = ServerProcess(reliability_dist, {**QUIET_ENV, "DCDR_CACHE_BYTES": "0"})
    try:
        server.wait_ready(60)
        expected = soak.fetch_expected(server.url + "/sparql", mix)
        load = threading.Thread(
            target=soak.run_load,
            args=(server.url + "/sparql", soak.calls_of(mix), expected, 8, min(SECONDS, 4)),
        )
        load.start()
        time.sleep(1.5)
        group = os.getpgid(server.process.pid)
        os.killpg(group, signal.SIGKILL)
        server.process.wait(timeout=10)
        load.join(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("processes of the killed server are still alive")
    finally:
        server.stop()
    with running(reliability_dist) as again:
        answers = soak.fetch_expected(again.url + "/sparql", mix)
    different = [key for key in expected if answers[key] != expected[key]]
    assert different == []


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "emptied"])
def test_damaged_dump_is_refused_at_start(
    reliability_dist: Path, tmp_path: Path, damage: str
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(reliability_dist.resolve(), dist)
    dump = dist / "dcdr.nq"
    data = dump.read_bytes()
    if damage == "flipped byte":
        middle = len(data) // 2
        dump.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    elif damage == "truncated":
        dump.write_bytes(data[: len(data) // 3])
    else:
        dump.write_bytes(b"")
    server = ServerProcess(dist, QUIET_ENV)
    try:
        code = server.process.wait(timeout=60)
    finally:
        server.stop()
    output = server.output()
    assert code != 0
    assert "dcdr.nq is corrupted or truncated" in output
    assert "SHA-256" in output
    assert "Traceback" not in output


# ---- builds ------------------------------------------------------------------------------

NEW_LINK = (
    "<https://w3id.org/dcdr/id/agency/cac> <http://www.w3.org/2004/02/skos/core#closeMatch> "
    "<http://www.wikidata.org/entity/Q1> .\n"
)


def _snapshot(dist: Path) -> dict[str, bytes | str]:
    files: dict[str, bytes | str] = {"link": os.readlink(dist)}
    for path in sorted(dist.iterdir()):
        if path.is_file():
            files[path.name] = path.read_bytes()
    return files


def _build_env(project: Project, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DCDR_ROOT": str(project.root),
        "DCDR_DIST": str(project.dist),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture
def served_mini(tmp_path: Path) -> Iterator[tuple[Project, ServerProcess, bytes]]:
    """The mini project built once and served, with the answer of one query."""
    project = copy_mini(tmp_path / "mini")
    build(project)
    with running(project.dist) as server:
        answer = requests.get(
            server.url + "/sparql", params={"query": ASK, "format": "json"}, timeout=30
        )
        assert answer.status_code == 200
        yield project, server, answer.content


# Each stage is reached by waiting for the log line of the one before (the build prints one
# line per stage), or by the build's own hold points for the two that write files.
STAGES = {
    "load": ("", ""),
    "reason": ("load ", ""),
    "validate": ("reason ", ""),
    "meta": ("validate ", ""),
    "write": ("", "dumps"),
    "publish": ("", "renamed"),
}


def _kill_build_at(project: Project, stage: str, tmp_path: Path) -> None:
    after_line, hold = STAGES[stage]
    marker = tmp_path / f"held-{stage}"
    extra = {"DCDR_BUILD_HOLD_AT": hold, "DCDR_BUILD_HOLD_FILE": str(marker)} if hold else {}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "graph.cli", "build"],
        cwd=project.root,
        env=_build_env(project, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        if hold:
            while not marker.exists():
                assert process.poll() is None, f"the build ended before {stage}"
                assert time.monotonic() < deadline
                time.sleep(0.02)
        elif after_line:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith(after_line):
                    break
            else:
                pytest.fail(f"the build never printed {after_line!r}")
        else:
            time.sleep(0.3)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_build_killed_at_each_stage_leaves_the_previous_dist_serving(
    served_mini: tuple[Project, ServerProcess, bytes], tmp_path: Path
) -> None:
    project, server, answer = served_mini
    before = _snapshot(project.dist)
    (project.root / "graph" / "facts" / "links" / "more.ttl").write_text(NEW_LINK, "utf-8")
    for stage in STAGES:
        _kill_build_at(project, stage, tmp_path)
        assert _snapshot(project.dist) == before, stage
        again = requests.get(
            server.url + "/sparql", params={"query": ASK, "format": "json"}, timeout=30
        )
        assert (again.status_code, again.content) == (200, answer), stage
    # A fresh server on the untouched dist starts too (its SHA256SUMS still verify).
    with running(project.dist) as fresh:
        assert requests.get(fresh.url + "/healthz", timeout=10).status_code == 200


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _fill(folder: Path, keep_free: int) -> None:
    """Writes a file that leaves about `keep_free` bytes free on `folder`'s file system."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with (folder / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - keep_free))


def _limit_file_size() -> None:
    # Without a small file system, a file-size limit makes the first big write fail (EFBIG)
    # instead of killing the process (SIGXFSZ ignored).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def test_disk_full_during_build_leaves_the_old_build_intact(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    mounted = _tmpfs(disk, "48m")
    try:
        project = Project(root=copy_mini(tmp_path / "mini").root, dist=disk / "dist")
        build(project)
        before = _snapshot(project.dist)
        (project.root / "graph" / "facts" / "links" / "more.ttl").write_text(NEW_LINK, "utf-8")
        if mounted:
            _fill(disk, 64 * 1024)
        done = subprocess.run(
            [sys.executable, "-m", "graph.cli", "build"],
            cwd=PROJECT,
            env=_build_env(project),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=None if mounted else _limit_file_size,
            check=False,
        )
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert ("No space left" in done.stderr) if mounted else ("too large" in done.stderr)
        assert _snapshot(project.dist) == before
        with running(project.dist) as server:
            answer = requests.get(server.url + "/sparql", params={"query": ASK}, timeout=30)
            assert answer.status_code == 200
        (disk / "filler").unlink(missing_ok=True)
        result = build(project)
        assert project.dist.resolve() == result.path.resolve()
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)

"""Starts and stops the SPARQL servers that the benchmarks and the remote-store tests drive:
`dcdr serve`, Oxigraph server, rdflib-endpoint and Virtuoso, each on a free loopback port.

Every server runs in its own process group and is stopped by that group's id (never by name),
also when the caller fails or is interrupted: each starter is a context manager.
"""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

LOOPBACK = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO_AUTH = ("dba", "dba")  # the account of a fresh database; the instance is loopback-only


class PeerFailed(RuntimeError):
    """A server did not start; the message carries the end of its log."""


@dataclass
class Peer:
    """A running server and where it answers SPARQL queries."""

    name: str
    sparql_url: str
    process: subprocess.Popen[bytes]
    log: Path
    startup_seconds: float
    # Graph Store Protocol endpoint, where the server has one that accepts writes.
    store_url: str | None = None


@dataclass(frozen=True)
class Memory:
    """Memory of a process and all its descendants, in bytes."""

    rss: int
    pss: int | None
    processes: int


def executable(name: str) -> str | None:
    """A program from this virtual environment first, then from PATH."""
    local = VENV_BIN / name
    return str(local) if local.exists() else shutil.which(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Ends the process group started for one server: TERM, then KILL after `grace` s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(grace)
    except ProcessLookupError:
        pass


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Polls the endpoint with `ASK {}` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PeerFailed(f"{url}: server exited with {process.returncode}\n{_tail(log)}")
        try:
            answer = requests.get(
                url,
                params={"query": "ASK {}"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=2.0,
            )
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise PeerFailed(f"{url}: not ready after {timeout:g} s\n{_tail(log)}")


@contextmanager
def running(
    name: str,
    command: Sequence[str],
    sparql_url: str,
    workdir: Path,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    store_url: str | None = None,
) -> Iterator[Peer]:
    """Starts `command` in a new process group, waits until it answers, stops it on exit."""
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        started = time.monotonic()
        process = subprocess.Popen(
            list(command),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        wait_ready(sparql_url, process, log, timeout)
        peer = Peer(name, sparql_url, process, log, time.monotonic() - started, store_url)
        yield peer
    finally:
        stop(process)


def _require(program: str) -> str:
    path = executable(program)
    if path is None:
        raise PeerFailed(f"{program} is not installed")
    return path


@contextmanager
def oxigraph_writable(workdir: Path, union_default_graph: bool = False) -> Iterator[Peer]:
    """An empty, writable Oxigraph server (`oxigraph serve`), for publishing into."""
    port = free_port()
    location = workdir / "oxigraph-rw"
    command = [_require("oxigraph"), "serve", "--location", str(location)]
    command += ["--bind", f"{LOOPBACK}:{port}"]
    if union_default_graph:
        command.append("--union-default-graph")
    base = f"http://{LOOPBACK}:{port}"
    with running("oxigraph-rw", command, f"{base}/query", workdir, store_url=f"{base}/store") as p:
        yield p


@contextmanager
def oxigraph_read_only(dist: Path, workdir: Path) -> Iterator[Peer]:
    """Oxigraph server on a copy of the dist's quads (`oxigraph load`, `serve-read-only`)."""
    program = _require("oxigraph")
    location = workdir / "oxigraph-ro"
    load = [program, "load", "--location", str(location), "--file", str(dist / "dcdr.nq")]
    subprocess.run(load, check=True, capture_output=True, cwd=workdir)
    port = free_port()
    command = [program, "serve-read-only", "--location", str(location)]
    command += ["--bind", f"{LOOPBACK}:{port}", "--union-default-graph"]
    with running("oxigraph", command, f"http://{LOOPBACK}:{port}/query", workdir) as peer:
        yield peer


@contextmanager
def rdflib_endpoint(dist: Path, workdir: Path) -> Iterator[Peer]:
    """rdflib-endpoint on the dist's TriG (its Dataset is built with `default_union=True`)."""
    port = free_port()
    command = [_require("rdflib-endpoint"), "serve", "--host", LOOPBACK, "--port", str(port)]
    command.append(str(dist / "dcdr.trig"))
    with running("rdflib-endpoint", command, f"http://{LOOPBACK}:{port}/", workdir) as peer:
        yield peer


@contextmanager
def dcdr_serve(dist: Path, workdir: Path, env: dict[str, str] | None = None) -> Iterator[Peer]:
    """The project's own server (`python -m server.front.serving`, granian)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "server.front.serving",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
    ]
    command += ["--dist", str(dist)]
    project = Path(__file__).resolve().parents[1]
    merged = {"PYTHONPATH": str(project), **(env or {})}
    with running("dcdr", command, f"http://{LOOPBACK}:{port}/sparql", workdir, env=merged) as p:
        yield p


def virtuoso_available() -> bool:
    return shutil.which("virtuoso-t") is not None and VIRTUOSO_INI.is_file()


def write_virtuoso_ini(workdir: Path, sql_port: int, http_port: int) -> Path:
    """The packaged configuration, moved into `workdir` and bound to loopback ports."""
    config = configparser.ConfigParser(
        strict=False, interpolation=None, inline_comment_prefixes=(";",)
    )
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read(VIRTUOSO_INI)
    database = workdir / "virtuoso"
    database.mkdir(exist_ok=True)
    for section, stem in (("Database", "virtuoso"), ("TempDatabase", "virtuoso-temp")):
        config[section]["DatabaseFile"] = str(database / f"{stem}.db")
        config[section]["TransactionFile"] = str(database / f"{stem}.trx")
    config["Database"]["ErrorLogFile"] = str(database / "virtuoso.log")
    config["Database"]["LockFile"] = str(database / "virtuoso.lck")
    parameters = config["Parameters"]
    parameters["ServerPort"] = f"{LOOPBACK}:{sql_port}"
    parameters["DirsAllowed"] = f"., {database}, /usr/share/virtuoso-opensource-7/vad"
    # The packaged defaults (10,000 buffers, 10 threads) are for a small desktop.
    parameters["NumberOfBuffers"] = "170000"
    parameters["MaxDirtyBuffers"] = "130000"
    http = config["HTTPServer"]
    http["ServerPort"] = f"{LOOPBACK}:{http_port}"
    http["ServerThreads"] = "32"
    http["MaxClientConnections"] = "32"
    config["SPARQL"]["ResultSetMaxRows"] = "1000000"
    path = workdir / "virtuoso.ini"
    with path.open("w") as sink:
        config.write(sink)
    return path


@contextmanager
def virtuoso(workdir: Path, dist: Path | None = None) -> Iterator[Peer]:
    """A fresh Virtuoso in `workdir` on loopback; with `dist`, its graphs are published."""
    if not virtuoso_available():
        raise PeerFailed("virtuoso-opensource is not installed (apt-get install it)")
    http_port = free_port()
    ini = write_virtuoso_ini(workdir, free_port(), http_port)
    command = [_require("virtuoso-t"), "-c", str(ini), "+foreground"]
    base = f"http://{LOOPBACK}:{http_port}"
    with running(
        "virtuoso",
        command,
        f"{base}/sparql",
        workdir,
        timeout=120.0,
        store_url=f"{base}/sparql-graph-crud-auth",
    ) as peer:
        if dist is not None:
            from graph.publish import publish

            publish(dist, f"{base}/sparql-graph-crud-auth", VIRTUOSO_AUTH)
        yield peer


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                found.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def tree_memory(pid: int) -> Memory:
    """RSS (and PSS, which counts shared pages once) summed over a process and its children."""
    rss = 0
    pss: int | None = 0
    pids = _descendants(pid)
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/smaps_rollup").read_text().splitlines()
        except OSError:
            pss = None
            try:
                status = Path(f"/proc/{each}/status").read_text().splitlines()
            except OSError:
                continue
            fields = [line.replace("VmRSS:", "Rss:") for line in status]
        for line in fields:
            key, _, rest = line.partition(":")
            if key == "Rss":
                rss += int(rest.split()[0]) * 1024
            elif key == "Pss" and pss is not None:
                pss += int(rest.split()[0]) * 1024
    return Memory(rss=rss, pss=pss, processes=len(pids))

"""Regressions of the server's hardening (issue 7 follow-ups): slow clients, Oxigraph's
evaluation errors, an unverified store, and a `dist` link swapped under a running server."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import requests

from graph.dumps import STORE_SUMS_FILE, write_store_sums
from server.stores.oxigraph_store import Job, _WorkerState, answer_job
from tests.reliability.conftest import running
from tests.server_fixtures import query_workers, serve_refused_dist, write_dist

READ_TIMEOUT = 3.0
COUNT_AGENCIES = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a <https://w3id.org/dcdr/ontology#Agency> }"


def _slow_client(port: int, with_body: bool, stop: threading.Event) -> float | None:
    """Sends a request one byte a second (its head, or its body after a whole head); returns
    the seconds until the server answered 408 or closed the connection, None if it never did."""
    body = b"query=ASK%20%7B%7D"
    head = b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
    head += b"Content-Type: application/x-www-form-urlencoded\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        pending = body if with_body else head + body
        if with_body:
            connection.sendall(head)
        for byte in pending:
            if stop.is_set():
                return None
            try:
                connection.sendall(bytes([byte]))
                answer = connection.recv(64)
            except TimeoutError:
                continue  # nothing yet: keep trickling
            except OSError:
                return time.monotonic() - started  # reset by the server
            if not answer or answer.startswith(b"HTTP/1.1 408"):
                return time.monotonic() - started
            return None  # anything else means the server waited for us: a failure
    return None


def test_regression_slow_clients_blocked_everyone(reliability_dist: Path) -> None:
    """gthread handed a connection to a thread at its first byte: workers x threads clients
    sending a byte a second stopped the server. Here N + 2 of them (half trickling the head,
    half the body) must not delay a normal client, and each is cut off after the deadline."""
    workers, threads = 2, 2
    slow_count = workers * threads + 2
    with running(
        reliability_dist,
        DCDR_WORKERS=str(workers),
        DCDR_THREADS=str(threads),
        DCDR_REQUEST_READ_TIMEOUT=str(READ_TIMEOUT),
        DCDR_CACHE_BYTES="0",
    ) as server:
        stop = threading.Event()
        ended: list[float | None] = [None] * slow_count

        def trickle(number: int) -> None:
            ended[number] = _slow_client(server.port, number % 2 == 1, stop)

        clients = [threading.Thread(target=trickle, args=(n,)) for n in range(slow_count)]
        for client in clients:
            client.start()
        time.sleep(1.0)
        latencies = []
        for n in range(10):
            started = time.monotonic()
            answer = requests.get(
                server.url + "/sparql", params={"query": f"ASK {{}} # {n}"}, timeout=10
            )
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200
        for client in clients:
            client.join(timeout=READ_TIMEOUT + 15)
        stop.set()
    assert max(latencies) < 2.0 and all(
        seconds is not None and seconds < READ_TIMEOUT + 5 for seconds in ended
    ), (latencies, ended)


def test_regression_unknown_function_matched_by_message() -> None:
    """Oxigraph raises RuntimeError for an unknown function or a wrong arity; the worker let
    it through and the endpoint recognised it by its message. It is now a refusal at the
    source, whatever the message says."""
    job: Job = (
        "SELECT (<http://example.org/no-such-function>(1) AS ?x) WHERE {}",
        None,
        None,
        "application/sparql-results+json",
        "text/turtle",
        10,
        True,
        True,
        "",
    )
    assert answer_job(_WorkerState(ox.Store(), {}), job)[0] == "refused"


def test_regression_corrupted_store_was_served(reliability_dist: Path, tmp_path: Path) -> None:
    """SHA256SUMS covered the dumps only, so a damaged store/ was served. The store's files
    are now listed in store.SHA256SUMS and checked at start."""
    damaged = tmp_path / "dist"
    shutil.copytree(reliability_dist, damaged)
    table = max((damaged / "store").glob("*.sst"), key=lambda path: path.stat().st_size)
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0x01
    table.write_bytes(bytes(data))
    completed = serve_refused_dist(damaged)
    assert (completed.returncode, completed.stderr.count("\n")) == (1, 1) and (
        f"{table.name} is corrupted or truncated" in completed.stderr
        and STORE_SUMS_FILE in completed.stderr
    ), completed.stderr


def _second_build(first: Path, target: Path) -> Path:
    """Another build: one more agency in the store, and another version."""
    shutil.copytree(first, target)
    script = (
        "import sys, pyoxigraph as ox\n"
        "store = ox.Store(sys.argv[1])\n"
        "store.add(ox.Quad(ox.NamedNode('https://w3id.org/dcdr/id/agency/extra'),"
        " ox.NamedNode('http://www.w3.org/1999/02/22-rdf-syntax-ns#type'),"
        " ox.NamedNode('https://w3id.org/dcdr/ontology#Agency'),"
        " ox.NamedNode('https://w3id.org/dcdr/graph/facts')))\n"
        "store.flush()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(target / "store")], check=True)
    write_store_sums(target)
    (target / "note.txt").write_text("second build\n", encoding="utf-8")
    digest = hashlib.sha256((target / "note.txt").read_bytes()).hexdigest()
    with (target / "SHA256SUMS").open("a", encoding="utf-8") as sums:
        sums.write(f"{digest}  note.txt\n")
    return target


def _answer(url: str) -> tuple[str, bytes, str]:
    """(status line, body, ETag) of the agency count; retried while a replaced worker starts."""
    deadline = time.monotonic() + 30
    while True:
        response = requests.get(url + "/sparql", params={"query": COUNT_AGENCIES}, timeout=30)
        if response.status_code == 200 or time.monotonic() > deadline:
            return str(response.status_code), response.content, response.headers.get("ETag", "")
        time.sleep(0.2)


def test_regression_rebuild_served_under_old_version(tmp_path: Path) -> None:
    """`dist` was kept as a link: a query worker replaced after a rebuild opened the NEW store
    while the server still answered with the OLD version's ETags. The build folder is now
    resolved once at start."""
    builds = tmp_path / ".dist-builds"
    first = write_dist(builds / "first")
    link = tmp_path / "dist"
    link.symlink_to(first.relative_to(tmp_path))
    # Every query in a killable process, so that the replaced ones answer the second query.
    with running(
        link,
        DCDR_WORKERS="1",
        DCDR_THREADS="1",
        DCDR_CACHE_BYTES="0",
        DCDR_QUERY_ISOLATION="process",
    ) as server:
        before = _answer(server.url)
        second = _second_build(first, builds / "second")
        swap = tmp_path / ".dist-new"
        swap.symlink_to(second.relative_to(tmp_path))
        os.replace(swap, link)
        for pid in query_workers(server.process.pid):
            os.kill(pid, signal.SIGKILL)
        after = _answer(server.url)
    with running(link, DCDR_CACHE_BYTES="0") as restarted:
        rebuilt = _answer(restarted.url)
    assert after == before and rebuilt[2] != before[2], (before, after, rebuilt)

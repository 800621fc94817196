"""Slow clients against the app under granian's RSGI bridge (`dcdr serve`) and under granian's
own WSGI interface: does the simpler server hold its threads for clients that trickle?

    python bench/slow_clients.py --dist PATH [--interfaces rsgi,wsgi] [--read-timeout 3]

The scenario of tests/reliability/test_serving_regressions.py (slow clients blocked everyone):
2 workers of 2 app threads each, 6 clients sending a POST one byte a second (3 the head, 3
the body after a whole head), and meanwhile 10 ordinary GETs, timed one after the other. For
each interface it prints the GETs' latencies and, per slow client, the seconds until the
server answered 408 or closed (or "never" within the read timeout + 15 s). The test asks for
every GET under 2 s and every slow client cut off within the read timeout + 5 s.

The WSGI server is `granian --interface wsgi` with the app of `create_app` and the same
worker, thread and header-deadline settings; nothing of the bridge runs in it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

# The regression test's own slow client: a trickler that the server never cuts off sends its
# whole request (18 bytes, 18 s) and then gets an answer, which counts as "never".
from tests.reliability.test_serving_regressions import _slow_client  # noqa: E402

WORKERS, THREADS, SLOW = 2, 2, 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_wsgi(port: int, read_timeout: float) -> None:
    """Runs in the child process: granian's WSGI interface over `create_app()`."""
    from flask import Flask
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    from server import create_app

    def loader(_target: str) -> Flask:
        app = create_app()
        start = getattr(app.extensions["dcdr"].store, "start", None)
        if start is not None:
            start()  # as the bridge does: query processes ready before the first request
        return app

    Server(
        "dcdr-wsgi",
        address="127.0.0.1",
        port=port,
        interface=Interfaces.WSGI,
        workers=WORKERS,
        blocking_threads=THREADS,
        http1_settings=HTTP1Settings(header_read_timeout=int(read_timeout * 1000)),
        workers_kill_timeout=5,
    ).serve(target_loader=loader)


def start(interface: str, dist: Path, port: int, read_timeout: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DCDR_DIST": str(dist),
        "DCDR_WORKERS": str(WORKERS),
        "DCDR_THREADS": str(THREADS),
        "DCDR_REQUEST_READ_TIMEOUT": str(read_timeout),
        "DCDR_CACHE_BYTES": "0",
        "DCDR_ACCESS_LOG": "0",
    }
    if interface == "rsgi":
        command = [sys.executable, "-m", "server.front.serving", "--port", str(port)]
    else:
        command = [sys.executable, __file__, "--serve-wsgi", str(port)]
        command += ["--read-timeout", str(read_timeout)]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK {}"}, timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the {interface} server did not start")


def scenario(port: int, read_timeout: float) -> tuple[list[float], list[float | None]]:
    stop = threading.Event()
    ended: list[float | None] = [None] * SLOW
    limit = read_timeout + 15

    def trickle(number: int) -> None:
        ended[number] = _slow_client(port, number % 2 == 1, stop)

    clients = [threading.Thread(target=trickle, args=(n,)) for n in range(SLOW)]
    for client in clients:
        client.start()
    time.sleep(1.0)
    latencies = []
    for n in range(10):
        started = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            requests.get(
                f"http://127.0.0.1:{port}/sparql",
                params={"query": f"ASK {{}} # {n}"},
                timeout=limit,
            )
        latencies.append(time.monotonic() - started)
    for client in clients:
        client.join(timeout=limit + 2)
    stop.set()
    return latencies, ended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path)
    parser.add_argument("--interfaces", default="rsgi,wsgi")
    parser.add_argument("--read-timeout", type=float, default=3.0)
    parser.add_argument("--serve-wsgi", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_wsgi:
        serve_wsgi(args.serve_wsgi, args.read_timeout)
        return
    if args.dist is None:
        parser.error("--dist is required")
    for interface in args.interfaces.split(","):
        port = free_port()
        process = start(interface, args.dist.resolve(), port, args.read_timeout)
        try:
            latencies, ended = scenario(port, args.read_timeout)
        finally:
            process.terminate()
            process.wait(timeout=30)
        cut = ["never" if seconds is None else f"{seconds:.1f}" for seconds in ended]
        ok = max(latencies) < 2.0 and all(
            s is not None and s < args.read_timeout + 5 for s in ended
        )
        print(f"{interface}: GET latencies (s) {' '.join(f'{s:.2f}' for s in latencies)}")
        print(f"{interface}: slow clients cut off after (s) {' '.join(cut)}")
        print(f"{interface}: {'passes' if ok else 'fails'} the slow-client test's conditions")


if __name__ == "__main__":
    main()

"""Latency and throughput of the SPARQL endpoint on the example queries.

Builds nothing: serves an existing dist with the settings of `dcdr serve` (gunicorn, default
workers and threads), then runs every query of `queries/examples/` by GET asking for SPARQL JSON,
at 1 and at 16 concurrent clients for a fixed time each, and prints p50/p99 latency and
requests per second. The clients are asyncio tasks over raw HTTP/1.1 keep-alive connections,
so the client side costs little next to the server.

    .venv/bin/python bench/endpoint.py [--dist dist] [--seconds 5] [--queries queries/examples]
    .venv/bin/python bench/endpoint.py --url http://127.0.0.1:8000/sparql   # a running server
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
ACCEPT = "application/sparql-results+json"


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, target: str
) -> int:
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: {ACCEPT}\r\n\r\n".encode("ascii")
    )
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _client(url: str, targets: list[str], deadline: float, run: Run, offset: int) -> None:
    parts = urlsplit(url)
    host = parts.netloc
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    index = offset
    try:
        while time.perf_counter() < deadline:
            target = targets[index % len(targets)]
            index += 1
            started = time.perf_counter()
            try:
                status = await _request(reader, writer, host, target)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                run.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
                continue
            run.latencies.append(time.perf_counter() - started)
            run.statuses[status] = run.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _measure(url: str, queries: list[str], clients: int, seconds: float) -> Run:
    path = urlsplit(url).path or "/sparql"
    targets = [f"{path}?{urlencode({'query': query})}" for query in queries]
    run = Run()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(_client(url, targets, deadline, run, i) for i in range(clients)))
    return run


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(label: str, run: Run, seconds: float) -> str:
    if not run.latencies:
        return f"{label}: no answers ({run.errors} errors)"
    p50 = _percentile(run.latencies, 0.50) * 1000
    p99 = _percentile(run.latencies, 0.99) * 1000
    rate = len(run.latencies) / seconds
    statuses = ", ".join(f"{code}×{count}" for code, count in sorted(run.statuses.items()))
    return (
        f"{label}: {rate:8.1f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
        f"mean {statistics.fmean(run.latencies) * 1000:7.2f} ms   [{statuses}; "
        f"{run.errors} errors]"
    )


def load_queries(folder: Path) -> list[tuple[str, str]]:
    files = sorted(folder.glob("*.rq"))
    return [(path.stem, path.read_text(encoding="utf-8")) for path in files]


def _wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server at {base} did not start within {seconds} s")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"))
    parser.add_argument("--url", help="measure a running endpoint instead of starting one")
    parser.add_argument("--queries", default=str(ROOT / "queries" / "examples"))
    parser.add_argument("--seconds", type=float, default=5.0, help="per query and concurrency")
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--cache-bytes", default=None, help="server result cache (0: off)")
    args = parser.parse_args(argv)
    queries = load_queries(Path(args.queries))
    if not queries:
        print(f"no .rq files in {args.queries}", file=sys.stderr)
        return 1
    levels = [int(level) for level in args.concurrency.split(",")]
    process: subprocess.Popen[bytes] | None = None
    url = args.url
    if url is None:
        port = _free_port()
        env = {**os.environ, "DCDR_ACCESS_LOG": "false"}
        if args.cache_bytes is not None:
            env["DCDR_CACHE_BYTES"] = args.cache_bytes
        process = subprocess.Popen(
            [sys.executable, "-m", "server.serving", "--port", str(port), "--dist", args.dist],
            cwd=ROOT,
            env=env,
        )
        _wait_ready(f"http://127.0.0.1:{port}", process)
        url = f"http://127.0.0.1:{port}/sparql"
    try:
        print(f"endpoint {url}; {len(queries)} queries; {args.seconds:g} s per measurement")
        for clients in levels:
            everything = Run()
            for name, query in queries:
                run = asyncio.run(_measure(url, [query], clients, args.seconds))
                print(report(f"  {name:<32} c={clients:<2}", run, args.seconds))
                everything.latencies.extend(run.latencies)
                everything.errors += run.errors
                for code, count in run.statuses.items():
                    everything.statuses[code] = everything.statuses.get(code, 0) + count
            total = args.seconds * len(queries)
            print(report(f"  {'all queries':<32} c={clients:<2}", everything, total))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())

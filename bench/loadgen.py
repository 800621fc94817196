"""The load generator shared by the benchmarks: a fixed-time run of GET SPARQL requests at a
given concurrency, in two mixes: "repeat" (the queries as users send them, over and over) and
"distinct" (each request made unique by a trailing comment, so no cache can answer it).

Debian's `wrk` drives the load when installed (a C client costs the server little CPU on a
2-core machine); otherwise an asyncio client on httpx does.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

ACCEPT = "application/sparql-results+json"
MODES = ("distinct", "repeat")


@dataclass(frozen=True)
class LoadResult:
    """What one fixed-time run measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def query_path(path: str, query: str) -> str:
    return f"{path}?query={quote(query, safe='')}"


def distinct_query(query: str, n: int | str) -> str:
    """The same query, unique as text: a comment changes no answer but defeats every cache."""
    return f"{query}\n# request {n}"


def _run_name() -> str:
    # Part of every distinct text of one run: without it the second run against the same
    # server (the 16-client cell after the 1-client one) repeats the first run's texts, and a
    # server with a cache answers those from it.
    return secrets.token_hex(6)


# The Lua side of wrk: cycles through the paths; in distinct mode appends
# "\n# <run>-t<thread>-<n>".
_WRK_SCRIPT = """
local paths = {}
local distinct = %(distinct)s
local counter = 0
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tag", "%(run)s-t" .. thread_count)
end
function init(args)
  for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
end
function request()
  counter = counter + 1
  local path = paths[(counter %% #paths) + 1]
  if distinct then path = path .. "%%0A%%23%%20" .. (tag or "t") .. "-" .. counter end
  return wrk.format("GET", path, {["Accept"] = "%(accept)s"})
end
function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", summary.requests, errors,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(
    url: str, queries: Sequence[str], concurrency: int, seconds: float, distinct: bool
) -> LoadResult:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with tempfile.TemporaryDirectory(prefix="dcdr-wrk-") as folder:
        paths = Path(folder) / "paths.txt"
        paths.write_text("\n".join(query_path(parts.path or "/", q) for q in queries) + "\n")
        script = Path(folder) / "mix.lua"
        values = {
            "distinct": str(distinct).lower(),
            "paths": paths,
            "accept": ACCEPT,
            "run": _run_name(),
        }
        script.write_text(_WRK_SCRIPT % values)
        threads = max(1, min(concurrency, 2))
        command = ["wrk", "-t", str(threads), "-c", str(concurrency)]
        command += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script)]
        done = subprocess.run([*command, origin], capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            count, errors, micros, p50, p99 = (int(x) for x in line.split()[1:])
            return LoadResult(count, errors, micros / 1e6, p50 / 1000, p99 / 1000, "wrk")
    raise RuntimeError(f"wrk gave no result: {done.stderr.strip() or done.stdout.strip()}")


async def _client_loop(
    client: httpx.AsyncClient,
    url: str,
    queries: Sequence[str],
    deadline: float,
    distinct: bool,
    offset: int,
    latencies: list[float],
    errors: list[int],
    run: str,
) -> None:
    n = offset
    while time.perf_counter() < deadline:
        query = queries[n % len(queries)]
        text = distinct_query(query, f"{run}-{n}") if distinct else query
        started = time.perf_counter()
        try:
            answer = await client.get(url, params={"query": text}, headers={"Accept": ACCEPT})
            await answer.aread()
            ok = answer.status_code == 200
        except httpx.HTTPError:
            ok = False
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(1)
        n += 1_000_003  # clients never send the same distinct text


async def _run_httpx(
    url: str, queries: Sequence[str], concurrency: int, seconds: float, distinct: bool
) -> LoadResult:
    latencies: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    run = _run_name()
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _client_loop(client, url, queries, deadline, distinct, i, latencies, errors, run)
                for i in range(concurrency)
            )
        )
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return LoadResult(
        len(latencies), len(errors), elapsed, statistics.median(ordered) * 1000, p99 * 1000, "httpx"
    )


def run_load(
    url: str,
    queries: Sequence[str],
    concurrency: int,
    seconds: float,
    mode: str,
    client: str = "auto",
) -> LoadResult:
    """Drives `url` (a SPARQL endpoint) with the query mix for `seconds`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if not queries:
        raise ValueError("no queries to send")
    distinct = mode == "distinct"
    use_wrk = client == "wrk" or (client == "auto" and shutil.which("wrk") is not None)
    if use_wrk:
        return run_wrk(url, queries, concurrency, seconds, distinct)
    return asyncio.run(_run_httpx(url, queries, concurrency, seconds, distinct))


@functools.cache
def _client() -> httpx.Client:
    # One client for all calls: `httpx.get` builds a client (and its TLS context) per call,
    # about 20 ms that a latency measurement would count as the server's. A new connection per
    # request, as separate users would open, so that every server worker gets its share.
    return httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def fetch_json(url: str, query: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request of the mix, for checking answers (status and body)."""
    answer = _client().get(
        url, params={"query": query}, headers={"Accept": ACCEPT}, timeout=timeout
    )
    return answer.status_code, answer.content

"""Latency and throughput of the SPARQL endpoint on the example queries.

Builds nothing: serves an existing dist with the settings of `dcdr serve` (granian, default
workers and threads), then runs every query of `queries/examples/` by GET asking for SPARQL JSON,
at 1 and at 16 concurrent clients for a fixed time each, and prints p50/p99 latency and
requests per second, per query and over all of them. The load comes from `bench/loadgen.py`
(wrk when installed, else httpx), the server from `bench/peers.py`, as in `bench/compare.py`.

    .venv/bin/python bench/endpoint.py [--dist dist] [--seconds 5] [--mode repeat|distinct]
    .venv/bin/python bench/endpoint.py --url http://127.0.0.1:8000/sparql   # a running server
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import loadgen  # noqa: E402
import peers  # noqa: E402


def load_queries(folder: Path) -> list[tuple[str, str]]:
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.rq"))]


def line(label: str, result: loadgen.LoadResult) -> str:
    return (
        f"{label}: {result.rate:8.1f} req/s   p50 {result.p50_ms:7.2f} ms   "
        f"p99 {result.p99_ms:7.2f} ms   [{result.requests} answers, {result.errors} errors]"
    )


@contextmanager
def endpoint(url: str | None, dist: Path, cache_bytes: str | None) -> Iterator[str]:
    """The URL to measure: the given one, or a `dcdr serve` started on `dist` for the run."""
    if url is not None:
        yield url
        return
    env = {"DCDR_ACCESS_LOG": "false"}
    if cache_bytes is not None:
        env["DCDR_CACHE_BYTES"] = cache_bytes
    with (
        tempfile.TemporaryDirectory(prefix="dcdr-endpoint-") as work,
        peers.dcdr_serve(dist, Path(work), env) as peer,
    ):
        print(f"start-up {peer.startup_seconds:.2f} s")
        yield peer.sparql_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dist", type=Path, default=PROJECT / "dist")
    parser.add_argument("--url", help="measure a running endpoint instead of starting one")
    parser.add_argument("--queries", type=Path, default=PROJECT / "queries" / "examples")
    parser.add_argument("--seconds", type=float, default=5.0, help="per query and concurrency")
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--mode", choices=loadgen.MODES, default="repeat")
    parser.add_argument("--cache-bytes", default=None, help="server result cache (0: off)")
    args = parser.parse_args(argv)
    queries = load_queries(args.queries)
    if not queries:
        print(f"no .rq files in {args.queries}", file=sys.stderr)
        return 1
    if args.url is None and not (args.dist / "SHA256SUMS").is_file():
        print(f"{args.dist} is not a built dist: run `dcdr build` first", file=sys.stderr)
        return 1
    levels = [int(level) for level in args.concurrency.split(",")]
    with endpoint(args.url, args.dist.resolve(), args.cache_bytes) as url:
        print(f"endpoint {url}; {len(queries)} queries; {args.seconds:g} s each; {args.mode}")
        for clients in levels:
            for name, query in queries:
                result = loadgen.run_load(url, [query], clients, args.seconds, args.mode)
                print(line(f"  {name:<32} c={clients:<2}", result))
            mix = [query for _, query in queries]
            overall = loadgen.run_load(url, mix, clients, args.seconds, args.mode)
            print(line(f"  {'the whole mix':<32} c={clients:<2}", overall))
    return 0


if __name__ == "__main__":
    sys.exit(main())

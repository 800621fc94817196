"""How long the row cap takes to answer a query whose full answer is huge (issue 16).

Serves the endpoint tests' small dist (about 1,000 triples, so `?a ?b ?c . ?d ?e ?f` has about
a million rows) with `dcdr serve`'s settings and the default row cap of 10,000, then times
cartesian-product queries with a large LIMIT of their own and with none, printing the median
of a few runs after one warm-up query.

    .venv/bin/python bench/row_cap.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import peers  # noqa: E402

from tests.server_fixtures import write_dist  # noqa: E402

QUERIES = {
    "product, LIMIT 10000000": "SELECT * { ?a ?b ?c . ?d ?e ?f } LIMIT 10000000",
    "product, LIMIT 200000": "SELECT * { ?a ?b ?c . ?d ?e ?f } LIMIT 200000",
    "product, no LIMIT": "SELECT * { ?a ?b ?c . ?d ?e ?f }",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        dist = write_dist(Path(work) / "dist")
        with peers.dcdr_serve(dist, Path(work), {"DCDR_CACHE_BYTES": "0"}) as peer:
            # The first query of this kind starts the killable query processes (about 0.5 s).
            requests.get(
                peer.sparql_url, params={"query": QUERIES["product, no LIMIT"]}, timeout=60
            )
            for label, query in QUERIES.items():
                seconds = []
                for _ in range(args.runs):
                    started = time.monotonic()
                    answer = requests.get(peer.sparql_url, params={"query": query}, timeout=60)
                    seconds.append(time.monotonic() - started)
                rows = len(answer.json()["results"]["bindings"]) if answer.ok else 0
                print(
                    f"{label:28} {statistics.median(seconds) * 1000:8.1f} ms median "
                    f"(max {max(seconds) * 1000:.1f})  status {answer.status_code}, {rows} rows, "
                    f"truncated={answer.headers.get('X-DCDR-Result-Truncated', 'false')}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What planning a query costs with the project's lexer, against the parsers that could do it.

    python bench/query_analysis.py [--repeat 200] [--rounds 5]

For every competency query of queries/examples/ it times, per query and without any memo:
`plan_query` (server/stores/query_analysis.py: lexing and planning), rdflib's SPARQL parser
alone (`parseQuery`), rdflib's parser with its algebra (`prepareQuery`, what would give the
plan's facts from a syntax tree), and pyoxigraph's own parse and evaluation against an empty
in-memory store (pyoxigraph 0.5 has no other way to parse a query, and gives no syntax tree).
The methods are timed in turns, round after round, and the median of the rounds' means is
printed with the spread (min–max of the rounds) in microseconds per query.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import pyoxigraph  # noqa: E402
from rdflib.plugins.sparql import prepareQuery  # noqa: E402
from rdflib.plugins.sparql.parser import parseQuery  # noqa: E402

from server.stores import query_analysis  # noqa: E402


def lexer_plan(text: str) -> object:
    # The memo-free path: lexing and planning every time, as for a query not seen before.
    return query_analysis._plan_tokens.__wrapped__(tuple(query_analysis._token_texts(text)))


def rdflib_parse(text: str) -> object:
    return parseQuery(text)


def rdflib_algebra(text: str) -> object:
    return prepareQuery(text)


EMPTY = pyoxigraph.Store()


def oxigraph_parse(text: str) -> object:
    result = EMPTY.query(text)
    return list(result) if isinstance(result, pyoxigraph.QuerySolutions) else result


METHODS: dict[str, Callable[[str], object]] = {
    "plan_query (lexer)": lexer_plan,
    "rdflib parseQuery": rdflib_parse,
    "rdflib prepareQuery": rdflib_algebra,
    "pyoxigraph query on empty store": oxigraph_parse,
}


def mean_micros(method: Callable[[str], object], queries: list[str], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for text in queries:
            method(text)
    return (time.perf_counter() - start) / (repeat * len(queries)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="passes over the queries a round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, methods taken in turns")
    args = parser.parse_args()
    queries = [path.read_text() for path in sorted((PROJECT / "queries/examples").glob("*.rq"))]
    sizes = sorted(len(text) for text in queries)
    median = sizes[len(sizes) // 2]
    print(f"{len(queries)} queries, {sizes[0]}–{sizes[-1]} characters (median {median})")
    for method in METHODS.values():  # warm up: imports, pyparsing's first use
        mean_micros(method, queries, 1)
    # rdflib's parser is two orders slower: fewer passes keep the run short, the mean is the same.
    repeats = {
        name: max(args.repeat // 20, 1) if "rdflib" in name else args.repeat for name in METHODS
    }
    rounds: dict[str, list[float]] = {name: [] for name in METHODS}
    for _ in range(args.rounds):
        for name, method in METHODS.items():
            rounds[name].append(mean_micros(method, queries, repeats[name]))
    base = statistics.median(rounds["plan_query (lexer)"])
    print(f"{'method':34} {'µs/query':>9} {'spread':>17} {'× lexer':>8}")
    for name, values in rounds.items():
        middle = statistics.median(values)
        spread = f"{min(values):.0f}–{max(values):.0f}"
        print(f"{name:34} {middle:9.0f} {spread:>17} {middle / base:8.1f}")


if __name__ == "__main__":
    main()

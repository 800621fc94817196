"""Side-by-side benchmark: `dcdr serve` against Oxigraph server, rdflib-endpoint and (when
installed) Virtuoso, on loopback and on the same data.

    python bench/compare.py [--dist PATH] [--seconds 10] [--concurrency 1,16]

Builds the graph into a temporary dist unless `--dist` is given, then starts each system in
turn (one at a time, so none competes for the 2 cores), checks that every competency query
answers the same on each (as sets of rows, numbers as numbers), drives it with the mix at each
concurrency in the "distinct" and "repeat" modes, and prints requests/s, p50 and p99 per cell
and the ratios dcdr/oxigraph and dcdr/rdflib-endpoint. Everything started is stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from decimal import Decimal, InvalidOperation
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import loadgen  # noqa: E402
import peers  # noqa: E402

SYSTEMS = ("dcdr", "oxigraph", "rdflib-endpoint", "virtuoso")
NUMERIC = {"integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger"}
# Used only when queries/examples/ is still empty: a label lookup, an aggregate, a text search.
FALLBACK_QUERIES = {
    "label-lookup": (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        'SELECT ?thing WHERE { ?thing rdfs:label "国家发展和改革委员会"@zh }'
    ),
    "aggregate": (
        "PREFIX dcdr: <https://w3id.org/dcdr/ontology#> "
        "SELECT ?metric (COUNT(?o) AS ?n) (MAX(?v) AS ?max) "
        "WHERE { ?o a dcdr:Observation ; dcdr:metric ?metric ; dcdr:value ?v } GROUP BY ?metric"
    ),
    "sentences": (
        "PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> "
        "SELECT ?s ?text WHERE { ?s a nif:Sentence ; nif:anchorOf ?text "
        'FILTER(CONTAINS(?text, "平台")) } ORDER BY ?s'
    ),
}

Starter = Callable[[Path, Path], AbstractContextManager[peers.Peer]]


def load_queries(folder: Path) -> dict[str, str]:
    found = {path.stem: path.read_text() for path in sorted(folder.glob("*.rq"))}
    return found or dict(FALLBACK_QUERIES)


def _term(value: dict[str, str]) -> object:
    if value.get("type") == "bnode":
        return ("bnode",)
    datatype = value.get("datatype", "")
    if datatype.rsplit("#", 1)[-1] in NUMERIC and datatype.startswith("http://www.w3.org/2001"):
        try:
            return ("number", Decimal(value["value"]).normalize())
        except InvalidOperation:
            pass
    # Virtuoso writes "typed-literal" for what SPARQL 1.1 JSON calls "literal".
    kind = "literal" if value.get("type") in ("literal", "typed-literal") else value.get("type")
    return (kind, value.get("value"), value.get("xml:lang", ""))


def answer_rows(body: bytes) -> object:
    """An answer as a sorted list of rows (a multiset), or the boolean of an ASK."""
    document = json.loads(body)
    if "boolean" in document:
        return bool(document["boolean"])
    # Rows as tuples sorted by variable: a canonical form whose repr orders the multiset.
    rows = [
        tuple(sorted((name, _term(value)) for name, value in row.items()))
        for row in document["results"]["bindings"]
    ]
    return sorted(rows, key=repr)


def collect_answers(peer: peers.Peer, queries: dict[str, str]) -> dict[str, object]:
    answers: dict[str, object] = {}
    for name, query in queries.items():
        status, body = loadgen.fetch_json(peer.sparql_url, query)
        try:
            answers[name] = answer_rows(body) if status == 200 else f"HTTP {status}"
        except (ValueError, KeyError):
            answers[name] = "unreadable answer"
    return answers


def build_dist(folder: Path) -> tuple[Path, float]:
    """`dcdr build` into `folder/dist`; returns the dist and the build's wall time."""
    dist = folder / "dist"
    command = [peers.executable("dcdr") or "dcdr", "build"]
    env = {**os.environ, "DCDR_DIST": str(dist), "DCDR_ROOT": str(PROJECT)}
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"dcdr build failed:\n{done.stdout}{done.stderr}")
    return dist, elapsed


def starters(virtuoso: bool) -> dict[str, Starter]:
    found: dict[str, Starter] = {
        "dcdr": lambda dist, work: peers.dcdr_serve(dist, work),
        "oxigraph": peers.oxigraph_read_only,
        "rdflib-endpoint": peers.rdflib_endpoint,
    }
    if virtuoso and peers.virtuoso_available():
        found["virtuoso"] = lambda dist, work: peers.virtuoso(work, dist)
    return found


Cell = tuple[str, str, int]  # system, mode, concurrency


def measure(
    name: str,
    start: Starter,
    dist: Path,
    work: Path,
    queries: dict[str, str],
    args: argparse.Namespace,
) -> Iterator[tuple[str, object]]:
    """Starts one system, yields ("startup", s), ("memory", m), ("answers", …), ("cell", …)."""
    folder = work / name
    folder.mkdir()
    with start(dist, folder) as peer:
        yield "startup", peer.startup_seconds
        yield "answers", collect_answers(peer, queries)
        if args.warmup > 0:
            # Steady state, as a long-running server sees it: every worker process of a
            # system has read the store's blocks and started what it starts on first use
            # before the clock runs. Distinct texts, so that no cache is filled for the cells.
            loadgen.run_load(
                peer.sparql_url,
                list(queries.values()),
                max(args.concurrency),
                args.warmup,
                "distinct",
                args.client,
            )
        for mode in args.modes:
            for concurrency in args.concurrency:
                result = loadgen.run_load(
                    peer.sparql_url,
                    list(queries.values()),
                    concurrency,
                    args.seconds,
                    mode,
                    args.client,
                )
                yield "cell", (mode, concurrency, result)
        yield "memory", peers.tree_memory(peer.process.pid)


def disagreements(answers: dict[str, dict[str, object]], reference: str) -> list[str]:
    lines = []
    base = answers.get(reference, {})
    for system, found in answers.items():
        if system == reference:
            continue
        for query, rows in found.items():
            if rows != base.get(query):
                size = len(rows) if isinstance(rows, list) else rows
                expected = base.get(query)
                size_ref = len(expected) if isinstance(expected, list) else expected
                lines.append(f"  {query}: {system} gives {size} row(s), {reference} {size_ref}")
    return lines


def print_table(
    cells: dict[Cell, loadgen.LoadResult], systems: list[str], args: argparse.Namespace
) -> None:
    head = f"{'system':<16}{'mode':<10}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(head + f"{'errors':>8}")
    print("-" * (len(head) + 8))
    for mode in args.modes:
        for concurrency in args.concurrency:
            for system in systems:
                r = cells.get((system, mode, concurrency))
                if r is None:
                    continue
                print(
                    f"{system:<16}{mode:<10}{concurrency:>8}{r.rate:>10.0f}"
                    f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
                )
    print()
    print(f"{'ratio (req/s)':<24}{'mode':<10}{'clients':>8}{'×':>8}")
    for peer in ("oxigraph", "rdflib-endpoint", "virtuoso"):
        for mode in args.modes:
            for concurrency in args.concurrency:
                ours = cells.get(("dcdr", mode, concurrency))
                theirs = cells.get((peer, mode, concurrency))
                if ours and theirs and theirs.rate:
                    label = f"dcdr/{peer}"
                    print(f"{label:<24}{mode:<10}{concurrency:>8}{ours.rate / theirs.rate:>8.2f}")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, help="a built dist (default: build one now)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each cell")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before a system's cells"
    )
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client counts")
    parser.add_argument("--modes", default="distinct,repeat")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--queries", type=Path, default=PROJECT / "queries" / "examples")
    args = parser.parse_args(argv)
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    except ValueError:
        parser.error("--concurrency takes numbers, e.g. 1,16")
    args.modes = [m for m in args.modes.split(",") if m]
    if set(args.modes) - set(loadgen.MODES) or not args.modes:
        parser.error(f"--modes takes {', '.join(loadgen.MODES)}")
    args.systems = [s for s in args.systems.split(",") if s]
    if set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems takes {', '.join(SYSTEMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    queries = load_queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="dcdr-bench-") as tmp:
        work = Path(tmp)
        build_seconds = None
        dist = args.dist.resolve() if args.dist else None
        if dist is None:
            dist, build_seconds = build_dist(work)
        if not (dist / "dcdr.nq").is_file():
            print(f"{dist} is not a built dist (no dcdr.nq)", file=sys.stderr)
            return 2
        available = starters("virtuoso" in args.systems)
        chosen = [s for s in args.systems if s in available]
        cells: dict[Cell, loadgen.LoadResult] = {}
        answers: dict[str, dict[str, object]] = {}
        notes: list[str] = []
        for name in chosen:
            print(f"… {name}", file=sys.stderr, flush=True)
            try:
                for kind, value in measure(name, available[name], dist, work, queries, args):
                    if kind == "startup":
                        notes.append(f"{name}: ready {value:.2f} s after start")
                    elif kind == "answers":
                        answers[name] = value  # type: ignore[assignment]
                    elif kind == "memory":
                        m = value
                        assert isinstance(m, peers.Memory)
                        pss = f", PSS {m.pss / 2**20:.0f} MB" if m.pss is not None else ""
                        rss = f"RSS {m.rss / 2**20:.0f} MB"
                        notes.append(f"{name}: {rss}{pss} ({m.processes} processes)")
                    else:
                        assert isinstance(value, tuple)
                        mode, concurrency, result = value
                        cells[(name, str(mode), int(concurrency))] = result
            except (peers.PeerFailed, RuntimeError, subprocess.CalledProcessError) as error:
                notes.append(f"{name}: skipped: {str(error).splitlines()[0]}")
        print(f"\nmachine: {machine()}")
        print(f"data: {dist} · {len(queries)} queries · {args.seconds:g} s per cell")
        if build_seconds is not None:
            print(f"build: {build_seconds:.2f} s (dcdr build, wall time)")
        for note in notes:
            print(note)
        print()
        print_table(cells, chosen, args)
        reference = "dcdr" if "dcdr" in answers else next(iter(answers), "")
        problems = disagreements(answers, reference)
        print()
        if problems:
            print(f"answers differ from {reference}:")
            print("\n".join(problems))
        elif answers:
            print(f"answers agree across {', '.join(answers)} on every query")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every server started was stopped", file=sys.stderr)
        sys.exit(130)

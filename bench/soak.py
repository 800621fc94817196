"""Soak test of `dcdr serve`: many clients send the query mix for a fixed time, every answer is
compared with the one a quiet server gave, and latency, errors and memory are reported.

    .venv/bin/python bench/soak.py --dist dist                  # 32 clients x 30 s, then again
                                                                # with 1 request in 10 a cross join
    .venv/bin/python bench/soak.py --url http://127.0.0.1:8000/sparql --clients 8 --seconds 10

The mix is every query of `queries/examples/` plus a few of our own, each in every format its
form can be written in, sent by GET, by form POST and by direct POST in turn. The expected
answer of each (query, format) is fetched once, by GET, before the load. The reliability tests
(`tests/reliability/`) run the same engine with shorter durations.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import peers
import pyoxigraph as ox
import requests

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "queries" / "examples"

DCDR = "https://w3id.org/dcdr/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# A few queries that have answers on any dist, the fixture one of the tests included.
OWN_QUERIES = {
    "own-agency-labels": (
        f"SELECT ?agency ?label WHERE {{ ?agency a <{DCDR}Agency> ; <{RDFS_LABEL}> ?label }}"
        " ORDER BY ?agency ?label"
    ),
    "own-observation-count": (f"SELECT (COUNT(?o) AS ?n) WHERE {{ ?o a <{DCDR}Observation> }}"),
    "own-values": (f"SELECT ?o ?v WHERE {{ ?o <{DCDR}value> ?v }} ORDER BY DESC(?v) ?o LIMIT 50"),
    "own-graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "own-ask": f"ASK {{ ?a a <{DCDR}Agency> }}",
    "own-construct": (
        f"CONSTRUCT {{ ?a <{RDFS_LABEL}> ?l }} WHERE {{ ?a a <{DCDR}Agency> ; <{RDFS_LABEL}> ?l }}"
    ),
}
# Cross joins that no time limit lets finish on any dist; sent with `timeout=HEAVY_TIMEOUT`.
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
HEAVY_TIMEOUT = "1"

FORMATS = {
    "select": ("json", "xml", "csv", "tsv"),
    "ask": ("json", "xml"),
    "construct": ("ttl", "nt", "jsonld", "xml"),
    "describe": ("ttl", "nt", "jsonld", "xml"),
}
METHODS = ("GET", "POST-form", "POST-direct")
SOLUTION_PARSERS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_PARSERS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


@dataclass(frozen=True)
class Case:
    """One query of the mix, with the form that decides its formats."""

    name: str
    query: str
    form: str


@dataclass(frozen=True)
class Call:
    """One request of the mix: a case in one format, sent one way."""

    case: Case
    fmt: str
    method: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.case.name, self.fmt)


def query_form(text: str) -> str:
    """SELECT/ASK/CONSTRUCT/DESCRIBE, from the server's own query analysis."""
    from server.stores.store import analyze_query

    return analyze_query(text).form or "select"


def load_mix(examples: Path = EXAMPLES, own: bool = True) -> list[Case]:
    """The competency queries (when present) and our own queries, in a stable order."""
    cases = []
    for path in sorted(examples.glob("*.rq")) if examples.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        cases.append(Case(path.stem, text, query_form(text)))
    if own or not cases:
        cases.extend(Case(name, text, query_form(text)) for name, text in OWN_QUERIES.items())
    return cases


def calls_of(cases: Iterable[Case]) -> list[Call]:
    """Every (case, format, method), interleaved so that each client varies all three."""
    calls = []
    for case in cases:
        for number, fmt in enumerate(FORMATS[case.form]):
            calls.append(Call(case, fmt, METHODS[number % len(METHODS)]))
    return calls


def send(
    session: requests.Session, url: str, call: Call, timeout: float = 60.0
) -> requests.Response:
    params = {"format": call.fmt}
    if call.method == "GET":
        return session.get(url, params={**params, "query": call.case.query}, timeout=timeout)
    if call.method == "POST-form":
        return session.post(url, data={**params, "query": call.case.query}, timeout=timeout)
    return session.post(
        url,
        params=params,
        data=call.case.query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query"},
        timeout=timeout,
    )


def fetch_expected(url: str, cases: Sequence[Case]) -> dict[tuple[str, str], bytes]:
    """The answer of every (case, format) from a quiet server; any error stops the run."""
    expected = {}
    with requests.Session() as session:
        for case in cases:
            for fmt in FORMATS[case.form]:
                response = send(session, url, Call(case, fmt, "GET"))
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{case.name} ({fmt}) answered {response.status_code} on a quiet "
                        f"server: {response.text[:300]}"
                    )
                expected[(case.name, fmt)] = response.content
    return expected


def _media(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def _solutions(body: bytes, media: str) -> collections.Counter[tuple[tuple[str, str], ...]]:
    if media == "text/csv":
        import csv

        rows = csv.reader(io.StringIO(body.decode("utf-8")))
        return collections.Counter(tuple(("", cell) for cell in row) for row in rows)
    parsed = ox.parse_query_results(body, SOLUTION_PARSERS[media])
    if isinstance(parsed, ox.QueryBoolean):
        return collections.Counter({(("ask", str(bool(parsed))),): 1})
    names = [variable.value for variable in parsed.variables]
    return collections.Counter(
        tuple((name, str(solution[name])) for name in names) for solution in parsed
    )


def same_answer(expected: bytes, response: requests.Response) -> bool:
    """Byte equality, or (for an answer in another order) equal rows or isomorphic graphs."""
    if response.content == expected:
        return True
    media = _media(response)
    try:
        if media in GRAPH_PARSERS:
            from rdflib import Graph
            from rdflib.compare import isomorphic

            formats = {"text/turtle": "turtle", "application/n-triples": "nt"}
            rdflib_format = formats.get(media, {"application/ld+json": "json-ld"}.get(media, "xml"))
            return isomorphic(
                Graph().parse(data=expected, format=rdflib_format),
                Graph().parse(data=response.content, format=rdflib_format),
            )
        return _solutions(expected, media) == _solutions(response.content, media)
    except (SyntaxError, ValueError, KeyError, UnicodeDecodeError):
        return False


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class LoadReport:
    """What one run saw; `ordinary` are the mix's requests, `heavy` the cross joins."""

    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    heavy_statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    mismatches: list[str] = field(default_factory=list)
    connection_errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.heavy_statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    def summary(self) -> str:
        heavy = ""
        if self.heavy_statuses:
            shown = ", ".join(f"{k}: {v}" for k, v in sorted(self.heavy_statuses.items()))
            heavy = f"; cross joins {sum(self.heavy_statuses.values())} ({shown})"
        return (
            f"{self.clients} clients x {self.seconds:g} s: {self.requests} requests, "
            f"{len(self.latencies)} ordinary, {self.server_errors} 5xx, "
            f"{len(self.connection_errors)} connection errors, "
            f"{len(self.mismatches)} wrong answers; p50 {self.p50 * 1000:.1f} ms, "
            f"p99 {self.p99 * 1000:.1f} ms{heavy}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "requests": self.requests,
            "ordinary": len(self.latencies),
            "statuses": dict(self.statuses),
            "heavy_statuses": dict(self.heavy_statuses),
            "server_errors": self.server_errors,
            "connection_errors": len(self.connection_errors),
            "wrong_answers": len(self.mismatches),
            "p50_ms": round(self.p50 * 1000, 1),
            "p99_ms": round(self.p99 * 1000, 1),
        }


def run_load(
    url: str,
    calls: Sequence[Call],
    expected: dict[tuple[str, str], bytes],
    clients: int,
    seconds: float,
    heavy_every: int = 0,
) -> LoadReport:
    """`clients` threads send `calls` round-robin (each from its own offset) for `seconds`;
    with `heavy_every=n`, every n-th request of a client is a timeout-bound cross join."""
    report = LoadReport(clients=clients, seconds=seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    heavy = Call(Case("cross-join", CROSS_JOIN, "select"), "json", "GET")

    def client(number: int) -> None:
        sent = 0
        with requests.Session() as session:
            while time.monotonic() < deadline:
                sent += 1
                is_heavy = heavy_every > 0 and sent % heavy_every == 0
                call = heavy if is_heavy else calls[(number * 7 + sent) % len(calls)]
                started = time.monotonic()
                try:
                    if is_heavy:
                        response = session.get(
                            url,
                            params={"query": CROSS_JOIN, "timeout": HEAVY_TIMEOUT},
                            timeout=60,
                        )
                    else:
                        response = send(session, url, call)
                except requests.RequestException as error:
                    with lock:
                        report.connection_errors.append(f"{call.key}: {error}")
                    continue
                elapsed = time.monotonic() - started
                with lock:
                    if is_heavy:
                        report.heavy_statuses[response.status_code] += 1
                        continue
                    report.statuses[response.status_code] += 1
                    report.latencies.append(elapsed)
                    if response.status_code != 200:
                        report.mismatches.append(
                            f"{call.key} {call.method}: {response.status_code} "
                            f"{response.text[:200]}"
                        )
                    elif not same_answer(expected[call.key], response):
                        report.mismatches.append(f"{call.key} {call.method}: different answer")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return report


# ---- the server under test ----------------------------------------------------------------


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def settle_rss(pid: int, bound: int, seconds: float = 20.0) -> int:
    """The tree's RSS once it is at most `bound`, or the last reading after `seconds`."""
    deadline = time.monotonic() + seconds
    current = tree_rss(pid)
    while current > bound and time.monotonic() < deadline:
        time.sleep(0.5)
        current = tree_rss(pid)
    return current


def soak(url: str, pid: int | None, clients: int, seconds: float, heavy_every: int) -> dict:
    """The clean run, then the run with cross joins; returns the figures as a dict."""
    cases = load_mix()
    calls = calls_of(cases)
    expected = fetch_expected(url, cases)
    before = tree_rss(pid) if pid else 0
    clean = run_load(url, calls, expected, clients, seconds)
    print("clean:       " + clean.summary(), flush=True)
    mixed = run_load(url, calls, expected, clients, seconds, heavy_every)
    print("cross joins: " + mixed.summary(), flush=True)
    figures: dict[str, object] = {
        "queries": len(cases),
        "calls": len(calls),
        "clean": clean.as_dict(),
        "cross_joins": mixed.as_dict(),
        "p99_ratio": round(mixed.p99 / clean.p99, 2) if clean.p99 else None,
    }
    if pid:
        after = settle_rss(pid, int(before * 1.2))
        figures["rss_before_mb"] = round(before / 2**20, 1)
        figures["rss_after_mb"] = round(after / 2**20, 1)
        print(f"memory: {before / 2**20:.0f} MB before, {after / 2**20:.0f} MB after", flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=PROJECT / "dist")
    parser.add_argument("--url", help="a running endpoint (no memory figures then)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--heavy-every", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.url:
            url, pid = args.url, None
        else:
            if not (args.dist / "SHA256SUMS").is_file():
                print(f"soak: no build at {args.dist}; run `dcdr build` first", file=sys.stderr)
                return 1
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dcdr-soak-")))
            # The result cache off: every request of the mix reaches a query worker.
            env = {"DCDR_CACHE_BYTES": "0", "DCDR_ACCESS_LOG": "false"}
            peer = stack.enter_context(peers.dcdr_serve(args.dist.resolve(), work, env))
            url, pid = peer.sparql_url, peer.process.pid
        figures = soak(url, pid, args.clients, args.seconds, args.heavy_every)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale benchmark: graphs of the real one's shape at 10k, 100k and 1M triples.

    python bench/scale.py --dist dist [--sizes 10000,100000,1000000] [--closure-max 120000]

Each graph is the real dist's asserted graphs plus synthetic parts of more reports and years:
sections, paragraphs and NIF sentences, each sentence stating one observation (metric under a
real broader metric, value, unit, comparator, date, statedAs, provenance) about platforms with
zh/en labels, with units and comparators mixed as in the real graph. For each size it prints:

- the OWL-RL closure before (`closure(graph, "owlrl")`, only up to `--closure-max` asserted
  triples, where it still ends in minutes) and after (`closure(graph, "rules")`, what the build
  runs), both on the rdflib graph the build hands them, and whether their `inferred` graphs are
  the same set of triples;
- the time to write the dist the server reads (N-Quads, TriG, on-disk Oxigraph store,
  SHA256SUMS);
- then serves it with `dcdr serve` (granian, as deployed) and prints the start-up time, the
  server's memory over all its processes (RSS, and PSS which counts shared pages once) and each
  competency query's latency (median of 3 runs after one warm-up, each request's text made
  unique so that the server's result cache never answers it).

It ends with the curve: seconds and microseconds per asserted triple of each reasoner by size.
Everything started is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import loadgen  # noqa: E402
import peers  # noqa: E402
from compare import load_queries  # noqa: E402
from compare import machine as compare_machine  # noqa: E402

from graph.dumps import sha256sums, write_store_sums  # noqa: E402
from graph.namespaces import (  # noqa: E402
    DCDR,
    DCTERMS,
    ID,
    NIF,
    PROV,
    RDF,
    RDFS,
    SKOS,
    UNIT,
    XSD,
    graph_iri,
)
from graph.reasoning import Reasoner, closure  # noqa: E402

ASSERTED = ("ontology", "text", "facts", "links")
# Triples one synthetic observation adds, with its sentence and its share of an entity.
PER_UNIT = 17.0
# Two patterns that share no variable: the server sends such a query to its killable processes.
# Both match nothing, so that the memory measured is the processes', not this query's.
ISOLATED_QUERY = "ASK { ?a <urn:dcdr:bench:none> ?b . ?c <urn:dcdr:bench:none> ?d }"
# The real graph's mix: 40 exactly, 26 more than, 3 nearly, 1 approximately, 1 at least.
COMPARATORS = (
    [DCDR.exactly] * 40
    + [DCDR.moreThan] * 26
    + [DCDR.nearly] * 3
    + [DCDR.approximately, DCDR.atLeast]
)
# The real graph's units by use (a percentage, counts of several kinds, one currency).
UNITS = (
    [ID["unit/item"]] * 21
    + [ID["unit/entry"]] * 12
    + [UNIT.PERCENT] * 9
    + [ID["unit/occurrence"]] * 5
    + [ID["unit/person-time"]] * 4
    + [ID["unit/case"], ID["unit/document"], ID["unit/organisation"], ID["unit/person"]] * 2
)
# Top concepts of the real metric scheme that synthetic metrics are narrower than.
BROADER = ("connections", "services", "service-usage", "visits", "records", "documents", "cases")


def n(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def synthetic_quads(units: int) -> list[ox.Quad]:
    """`units` observations with their sentences, in parts of more reports and years."""
    text, facts = n(graph_iri("text")), n(graph_iri("facts"))
    quads: list[ox.Quad] = []
    add_text = lambda s, p, o: quads.append(ox.Quad(s, p, o, text))  # noqa: E731
    add_fact = lambda s, p, o: quads.append(ox.Quad(s, p, o, facts))  # noqa: E731
    integer, date = n(XSD.integer), n(XSD.date)
    for k in range(20):
        metric = n(ID[f"metric/synthetic-{k}"])
        add_fact(metric, n(RDF.type), n(DCDR.Metric))
        add_fact(metric, n(RDFS.label), ox.Literal(f"合成指标{k}", language="zh"))
        add_fact(metric, n(RDFS.label), ox.Literal(f"synthetic metric {k}", language="en"))
        add_fact(metric, n(SKOS.broader), n(ID[f"metric/{BROADER[k % len(BROADER)]}"]))
        # Every synthetic figure is a running total at a year's end (累计…截至…年底).
        add_fact(metric, n(DCDR.measureType), n(DCDR.Stock))
    for u in range(units):
        report, part, section, paragraph = u // 20000, u // 2000, u // 200, u // 20
        year = 2021 + report
        context = n(ID[f"context/dcdr-{year}-s{part}"])
        para = n(ID[f"paragraph/dcdr-{year}-p{section}-{paragraph}"])
        if u % 2000 == 0:
            add_text(context, n(RDF.type), n(NIF.Context))
            add_text(context, n(DCTERMS.isPartOf), n(ID[f"report/dcdr-{year}"]))
        if u % 20 == 0:
            add_text(para, n(DCTERMS.isPartOf), context)
        sentence = n(ID[f"sentence/dcdr-{year}-{u:07d}"])
        stated = f"{u % 997 + 3}万余项"
        anchor = f"截至{year}年底,合成平台{u // 10}累计办理{stated}。"
        begin = (u % 200) * 40
        add_text(sentence, n(RDF.type), n(NIF.Sentence))
        add_text(sentence, n(NIF.anchorOf), ox.Literal(anchor))
        add_text(sentence, n(NIF.beginIndex), ox.Literal(str(begin), datatype=integer))
        add_text(sentence, n(NIF.endIndex), ox.Literal(str(begin + len(anchor)), datatype=integer))
        add_text(sentence, n(NIF.referenceContext), context)
        add_text(sentence, n(DCTERMS.isPartOf), para)
        platform = n(ID[f"platform/synthetic-{u // 10}"])
        if u % 10 == 0:
            add_fact(platform, n(RDF.type), n(DCDR.Platform))
            add_fact(platform, n(RDFS.label), ox.Literal(f"合成平台{u // 10}", language="zh"))
            add_fact(platform, n(RDFS.label), ox.Literal(f"platform {u // 10}", language="en"))
            add_fact(platform, n(DCDR.operatedBy), n(ID["agency/ndrc"]))
        obs = n(ID[f"observation/synthetic-{u:07d}"])
        add_fact(obs, n(RDF.type), n(DCDR.Observation))
        add_fact(obs, n(DCDR.about), platform)
        add_fact(obs, n(DCDR.metric), n(ID[f"metric/synthetic-{u % 20}"]))
        add_fact(obs, n(DCDR.value), ox.Literal(str((u % 997 + 3) * 10000), datatype=integer))
        add_fact(obs, n(DCDR.unit), n(UNITS[u % len(UNITS)]))
        add_fact(obs, n(DCDR.comparator), n(COMPARATORS[u % len(COMPARATORS)]))
        add_fact(obs, n(DCDR.asOf), ox.Literal(f"{year}-12-31", datatype=date))
        add_fact(obs, n(DCDR.refDate), ox.Literal(f"{year}-12-31", datatype=date))
        add_fact(obs, n(DCDR.timeBasis), n(DCDR.statedInSentence))
        add_fact(obs, n(DCDR.statedAs), ox.Literal(stated, language="zh"))
        add_fact(obs, n(PROV.wasDerivedFrom), sentence)
    return quads


def base_quads(dist: Path) -> list[ox.Quad]:
    """The real dist's asserted graphs (its inferred and meta graphs are made anew)."""
    keep = {str(graph_iri(g)) for g in (*ASSERTED, "shapes")}
    quads = ox.parse(path=dist / "dcdr.nq", format=ox.RdfFormat.N_QUADS)
    return [
        q for q in quads if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in keep
    ]


def rdflib_terms() -> Callable[[object], Node]:
    """Oxigraph term → the rdflib term the build's Turtle parser makes (plain strings carry no
    datatype there), memoized: the synthetic graphs repeat their terms a lot."""
    seen: dict[object, Node] = {}
    string = str(XSD.string)

    def convert(term: object) -> Node:
        found = seen.get(term)
        if found is not None:
            return found
        made: Node
        if isinstance(term, ox.NamedNode):
            made = URIRef(term.value)
        elif isinstance(term, ox.BlankNode):
            made = BNode(term.value)
        elif isinstance(term, ox.Literal):
            datatype = term.datatype.value
            if term.language is not None:
                made = Literal(term.value, lang=term.language)
            else:
                typed = None if datatype == string else URIRef(datatype)
                made = Literal(term.value, datatype=typed)
        else:
            raise TypeError(f"unexpected term {term!r}")
        seen[term] = made
        return made

    return convert


def asserted_graph(store: ox.Store) -> Graph:
    """The asserted union as the build's reasoner receives it (an rdflib graph)."""
    convert = rdflib_terms()
    graph = Graph()
    for name in ASSERTED:
        for quad in store.quads_for_pattern(None, None, None, n(graph_iri(name))):
            graph.add((convert(quad.subject), convert(quad.predicate), convert(quad.object)))
    return graph


def timed_closure(graph: Graph, reasoner: Reasoner) -> tuple[float, Graph, int]:
    started = time.perf_counter()
    inferred, problems = closure(graph, reasoner)
    return time.perf_counter() - started, inferred, len(problems)


def add_inferred(store: ox.Store, inferred: Graph) -> None:
    """The inferred graph into the store, through N-Triples (the library's own converters)."""
    data = inferred.serialize(format="nt", encoding="utf-8")
    store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=n(graph_iri("inferred")))


def write_dist(store: ox.Store, folder: Path) -> float:
    """The dist layout the server reads: dumps, on-disk store, store.SHA256SUMS, SHA256SUMS."""
    started = time.perf_counter()
    folder.mkdir(parents=True)
    store.dump(output=str(folder / "dcdr.nq"), format=ox.RdfFormat.N_QUADS)
    store.dump(output=str(folder / "dcdr.trig"), format=ox.RdfFormat.TRIG)
    disk = ox.Store(str(folder / "store"))
    disk.bulk_load(path=folder / "dcdr.nq", format=ox.RdfFormat.N_QUADS)
    disk.flush()
    del disk
    write_store_sums(folder)
    (folder / "SHA256SUMS").write_bytes(sha256sums(folder, ["dcdr.trig", "dcdr.nq"]))
    return time.perf_counter() - started


@dataclass
class Point:
    """One size's figures, for the closing curve."""

    target: int
    asserted: int = 0
    owlrl: float | None = None
    rules: float = 0.0
    inferred: int = 0
    write: float = 0.0
    startup: float | None = None
    pss_mb: float | None = None
    pss_isolated_mb: float | None = None
    queries: dict[str, float] = field(default_factory=dict)


def serve_and_query(dist: Path, work: Path, queries: dict[str, str], point: Point) -> None:
    with peers.dcdr_serve(dist, work) as server:
        point.startup = server.startup_seconds
        print(f"  start-up      {server.startup_seconds:8.2f} s")
        for number, (name, query) in enumerate(queries.items()):
            times, status = [], 0
            # Every request is new text, so the server's result cache never answers it.
            for attempt in range(4):
                text = loadgen.distinct_query(query, number * 10 + attempt)
                started = time.perf_counter()
                status, _ = loadgen.fetch_json(server.sparql_url, text, timeout=60.0)
                times.append(time.perf_counter() - started)
            times = times[1:]  # the first one warms the worker up
            point.queries[name] = statistics.median(times)
            flag = "" if status == 200 else f"  (HTTP {status})"
            slow = "  > 1 s" if point.queries[name] > 1.0 else ""
            print(f"  query {name:<34}{point.queries[name] * 1000:9.1f} ms{flag}{slow}")
        memory = _print_memory("memory", server.process.pid)
        if memory.pss is not None:
            point.pss_mb = memory.pss / 2**20
        # Patterns sharing no variable start the killable query processes, which a server
        # serving only the competency queries never needs: their cost, measured too.
        loadgen.fetch_json(server.sparql_url, ISOLATED_QUERY, timeout=60.0)
        memory = _print_memory("  + killable", server.process.pid)
        if memory.pss is not None:
            point.pss_isolated_mb = memory.pss / 2**20


def _print_memory(label: str, pid: int) -> peers.Memory:
    memory = peers.tree_memory(pid)
    pss = f", PSS {memory.pss / 2**20:.0f} MB" if memory.pss is not None else ""
    print(f"  {label:<13} RSS {memory.rss / 2**20:.0f} MB{pss} ({memory.processes} processes)")
    return memory


def run_size(target: int, base: list[ox.Quad], work: Path, args: argparse.Namespace) -> Point:
    point = Point(target)
    units = max(0, int((target - len(base)) / PER_UNIT))
    started = time.perf_counter()
    store = ox.Store()
    store.extend(base)
    store.extend(synthetic_quads(units))
    print(f"\n== {target:,} triples: {len(store):,} quads ({units:,} synthetic observations)")
    print(f"  generate      {time.perf_counter() - started:8.2f} s")
    started = time.perf_counter()
    graph = asserted_graph(store)
    point.asserted = len(graph)
    print(f"  rdflib graph  {time.perf_counter() - started:8.2f} s  ({len(graph):,} asserted)")
    owlrl_inferred: Graph | None = None
    if len(graph) <= args.closure_max:
        point.owlrl, owlrl_inferred, problems = timed_closure(graph, "owlrl")
        print(f"  before: owlrl {point.owlrl:8.2f} s  ({len(owlrl_inferred):,} inferred)")
    else:
        print(f"  before: owlrl  skipped above {args.closure_max:,} asserted (--closure-max)")
    point.rules, inferred, problems = timed_closure(graph, "rules")
    point.inferred = len(inferred)
    print(
        f"  after:  rules {point.rules:8.2f} s  ({len(inferred):,} inferred, {problems} problems)"
    )
    if owlrl_inferred is not None:
        same = set(owlrl_inferred) == set(inferred)
        print(f"  same inferred graph from both: {'yes' if same else 'NO'}")
    del graph, owlrl_inferred
    add_inferred(store, inferred)
    dist = work / f"dist-{target}"
    point.write = write_dist(store, dist)
    print(f"  write dist    {point.write:8.2f} s  ({len(store):,} quads)")
    del store, inferred
    if not args.no_serve:
        serve_and_query(dist, work, load_queries(args.queries), point)
    return point


def _cell(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def print_curve(points: Iterable[Point]) -> None:
    print("\n== curve (closure of the asserted union; µs per asserted triple)")
    print(
        f"  {'asserted':>10} {'owlrl s':>9} {'µs/t':>6} {'rules s':>8} {'µs/t':>5}"
        f" {'inferred':>9} {'write s':>8} {'start s':>8} {'PSS MB':>7} {'+killable':>9}"
        f" {'slowest query':>22}"
    )
    for p in points:
        per = 1e6 / max(p.asserted, 1)
        owlrl_per = None if p.owlrl is None else p.owlrl * per
        slowest = max(p.queries.items(), key=lambda item: item[1], default=None)
        slow = "-" if slowest is None else f"{slowest[0][:14]} {slowest[1] * 1000:.0f} ms"
        print(
            f"  {p.asserted:>10,} {_cell(p.owlrl, '9.2f'):>9} {_cell(owlrl_per, '6.0f'):>6}"
            f" {p.rules:8.2f} {p.rules * per:5.1f} {p.inferred:>9,} {p.write:8.2f}"
            f" {_cell(p.startup, '8.2f'):>8} {_cell(p.pss_mb, '7.0f'):>7}"
            f" {_cell(p.pss_isolated_mb, '9.0f'):>9} {slow:>22}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=PROJECT / "dist", help="the real dist")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--closure-max",
        type=int,
        default=120_000,
        help="run the owlrl reasoner only up to this many asserted triples",
    )
    parser.add_argument("--queries", type=Path, default=PROJECT / "queries" / "examples")
    parser.add_argument("--no-serve", action="store_true", help="skip serving and querying")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s]
    except ValueError:
        parser.error("--sizes takes numbers, e.g. 10000,100000")
    if not (args.dist / "dcdr.nq").is_file():
        print(f"{args.dist} is not a built dist: run `dcdr build` or give --dist", file=sys.stderr)
        return 2
    base = base_quads(args.dist)
    print(f"machine: {compare_machine()} · real graph: {len(base):,} asserted quads")
    points = []
    with tempfile.TemporaryDirectory(prefix="dcdr-scale-") as tmp:
        for target in sizes:
            points.append(run_size(target, base, Path(tmp), args))
    print_curve(points)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every server started was stopped", file=sys.stderr)
        sys.exit(130)

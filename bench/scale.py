"""Scale benchmark: graphs of the real one's shape at 10k, 100k and 1M triples.

    python bench/scale.py --dist dist [--sizes 10000,100000,1000000]

Each graph is the real dist plus synthetic parts of more reports and years: sections,
paragraphs and NIF sentences, each sentence stating one observation (metric, value, unit,
comparator, date, statedAs, provenance) about platforms with zh/en labels. For each size it
prints the time of the OWL-RL closure as the build runs it (`graph.reasoning.closure`, skipped
above `--closure-max` asserted triples) and of the same subclass/subproperty/inverse/domain/range
entailments as SPARQL rules run in the store, the time to write the dist (TriG, N-Quads,
on-disk Oxigraph store, SHA256SUMS), then serves it with `dcdr serve` and prints the start-up
time, the server's memory over all its processes (RSS and PSS) and each competency query's
latency (median of 3).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import loadgen  # noqa: E402
import peers  # noqa: E402
from compare import load_queries  # noqa: E402
from compare import machine as compare_machine  # noqa: E402

from graph.dumps import sha256sums  # noqa: E402
from graph.namespaces import DCDR, DCTERMS, ID, NIF, PROV, RDF, RDFS, XSD, graph_iri  # noqa: E402

ASSERTED = ("ontology", "text", "facts", "links")
# Triples one synthetic observation adds, with its sentence and its share of an entity.
PER_UNIT = 17.0

# Entailments of the ontology's axioms that clients rely on, as rules run in the store until
# nothing new appears: the alternative to a Python closure over every triple.
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
# (new triple, premises, filter): each premise may hold in any named graph.
_RULE_PARTS = (
    ("?x a ?super", ("?x a ?sub", f"?sub <{_RDFS}subClassOf> ?super"), "isIRI(?super)"),
    ("?s ?super ?o", ("?s ?sub ?o", f"?sub <{_RDFS}subPropertyOf> ?super"), "isIRI(?super)"),
    ("?o ?inv ?s", (f"?p <{_OWL}inverseOf> ?inv", "?s ?p ?o"), "isIRI(?o)"),
    ("?s a ?c", (f"?p <{_RDFS}domain> ?c", "?s ?p ?o"), "isIRI(?c)"),
    ("?o a ?c", (f"?p <{_RDFS}range> ?c", "?s ?p ?o"), "isIRI(?c) && isIRI(?o)"),
)
RULES = tuple(
    "INSERT { GRAPH <{inf}> { "
    + head
    + " } } WHERE { "
    + " ".join(f"GRAPH ?g{i} {{ {premise} }}" for i, premise in enumerate(premises))
    + f" FILTER({condition}) FILTER NOT EXISTS {{ GRAPH ?known {{ {head} }} }} }}"
    for head, premises, condition in _RULE_PARTS
)


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
        add_fact(obs, n(DCDR.unit), n(ID["unit/item"]))
        add_fact(obs, n(DCDR.comparator), n(DCDR.moreThan))
        add_fact(obs, n(DCDR.asOf), ox.Literal(f"{year}-12-31", datatype=date))
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


def owlrl_closure(store: ox.Store) -> tuple[float, int]:
    """The build's own closure over the asserted union (rdflib + owlrl)."""
    from rdflib import Graph

    from graph.reasoning import closure

    asserted = Graph()
    for name in ASSERTED:
        data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=n(graph_iri(name)))
        asserted.parse(data=data, format="nt")
    started = time.perf_counter()
    inferred, _ = closure(asserted)
    return time.perf_counter() - started, len(inferred)


def rule_closure(store: ox.Store) -> tuple[float, int]:
    """The same entailments as SPARQL rules in the store, to a fixpoint."""
    inferred = n(graph_iri("inferred"))
    started = time.perf_counter()
    while True:
        before = len(store)
        for rule in RULES:
            store.update(rule.replace("{inf}", inferred.value))
        if len(store) == before:
            break
    count = sum(1 for _ in store.quads_for_pattern(None, None, None, inferred))
    return time.perf_counter() - started, count


def write_dist(store: ox.Store, folder: Path) -> float:
    """The dist layout the server reads: dumps, on-disk store, SHA256SUMS."""
    started = time.perf_counter()
    folder.mkdir(parents=True)
    store.dump(output=str(folder / "dcdr.nq"), format=ox.RdfFormat.N_QUADS)
    store.dump(output=str(folder / "dcdr.trig"), format=ox.RdfFormat.TRIG)
    disk = ox.Store(str(folder / "store"))
    disk.bulk_load(path=folder / "dcdr.nq", format=ox.RdfFormat.N_QUADS)
    disk.flush()
    del disk
    (folder / "SHA256SUMS").write_bytes(sha256sums(folder, ["dcdr.trig", "dcdr.nq"]))
    return time.perf_counter() - started


def serve_and_query(dist: Path, work: Path, queries: dict[str, str]) -> list[str]:
    lines = []
    with peers.dcdr_serve(dist, work) as server:
        lines.append(f"  start-up      {server.startup_seconds:8.2f} s")
        for name, query in queries.items():
            times, status = [], 0
            for _ in range(3):
                started = time.perf_counter()
                status, _ = loadgen.fetch_json(server.sparql_url, query, timeout=60.0)
                times.append(time.perf_counter() - started)
            flag = "" if status == 200 else f"  (HTTP {status})"
            lines.append(f"  query {name:<34}{statistics.median(times) * 1000:9.1f} ms{flag}")
        memory = peers.tree_memory(server.process.pid)
    pss = f", PSS {memory.pss / 2**20:.0f} MB" if memory.pss is not None else ""
    lines.insert(
        1, f"  memory        RSS {memory.rss / 2**20:.0f} MB{pss} ({memory.processes} proc)"
    )
    return lines


def run_size(target: int, base: list[ox.Quad], work: Path, args: argparse.Namespace) -> None:
    units = max(0, int((target - len(base)) / PER_UNIT))
    started = time.perf_counter()
    store = ox.Store()
    store.extend(base)
    store.extend(synthetic_quads(units))
    generated = time.perf_counter() - started
    asserted = len(store)
    print(f"\n== {target:,} triples target: {asserted:,} asserted ({units:,} observations)")
    print(f"  generate      {generated:8.2f} s")
    if asserted <= args.closure_max:
        seconds, count = owlrl_closure(store)
        print(f"  owlrl closure {seconds:8.2f} s  ({count:,} inferred)")
    else:
        print(f"  owlrl closure  skipped above {args.closure_max:,} asserted (--closure-max)")
    seconds, count = rule_closure(store)
    print(f"  rule closure  {seconds:8.2f} s  ({count:,} inferred, SPARQL rules in the store)")
    dist = work / f"dist-{target}"
    print(f"  write dist    {write_dist(store, dist):8.2f} s  ({len(store):,} quads)")
    del store
    if not args.no_serve:
        for line in serve_and_query(dist, work, load_queries(args.queries)):
            print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=PROJECT / "dist", help="the real dist")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--closure-max", type=int, default=120_000)
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
    with tempfile.TemporaryDirectory(prefix="dcdr-scale-") as tmp:
        for target in sizes:
            run_size(target, base, Path(tmp), args)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every server started was stopped", file=sys.stderr)
        sys.exit(130)

"""The build: determinism, round trips, atomicity, failure reports and VoID counts."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from graph.build import SourceError, build
from graph.dumps import PublishError
from graph.namespaces import DATASET_IRI, DCTERMS, GRAPH_NAMES, ID, OWL, RDF, RDFS, SD, VOID
from graph.paths import Project
from graph.problems import Problem
from graph.reasoning import is_noise
from tests.conftest import ROOT, copy_mini, run_dcdr

DUMP_FILES = ("dcdr.trig", "dcdr.nq", "dcdr.ttl", "dcdr.jsonld", "void.ttl", "SHA256SUMS")
TABLE_FILES = (
    "figures.csv",
    "figures.csv-metadata.json",
    "figures-zh.csv",
    "figures-zh.csv-metadata.json",
)
GRAPH_BASE = "https://w3id.org/dcdr/graph/"
BROKEN_OBSERVATION = """
<https://w3id.org/dcdr/id/observation/broken> a <https://w3id.org/dcdr/ontology#Observation> ;
    <https://w3id.org/dcdr/ontology#about> <https://w3id.org/dcdr/id/platform/demo> ;
    <https://w3id.org/dcdr/ontology#value> 5 ;
    <https://w3id.org/dcdr/ontology#unit> <https://w3id.org/dcdr/id/unit/item> ;
    <https://w3id.org/dcdr/ontology#comparator> <https://w3id.org/dcdr/ontology#moreThan> ;
    <http://www.w3.org/ns/prov#wasDerivedFrom> <https://w3id.org/dcdr/id/sentence/p4-s1-02> .
"""


def _dataset(dist: Path) -> Dataset:
    dataset = Dataset()
    dataset.parse(dist / "dcdr.trig", format="trig")
    return dataset


def _graphs(dataset: Dataset) -> dict[str, Graph]:
    found = {}
    for graph in dataset.graphs():
        if str(graph.identifier).startswith(GRAPH_BASE):
            found[str(graph.identifier)[len(GRAPH_BASE) :]] = graph
    return found


def _snapshot(project: Project) -> dict[str, bytes | str]:
    """Everything a reader of `dist` sees, to compare before and after a failed build."""
    files: dict[str, bytes | str] = {"link": os.readlink(project.dist)}
    for name in DUMP_FILES:
        files[name] = (project.dist / name).read_bytes()
    return files


def _verify_sums(dist: Path) -> list[str]:
    names = []
    for line in (dist / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name
        names.append(name)
    return names


def test_build_writes_every_dump_and_a_store(built_mini: Project) -> None:
    dist = built_mini.dist
    assert dist.is_symlink()
    assert not os.path.isabs(os.readlink(dist))
    assert sorted(_verify_sums(dist)) == sorted(set(DUMP_FILES + TABLE_FILES) - {"SHA256SUMS"})
    store = pyoxigraph.Store.read_only(str(dist / "store"))
    lines = (dist / "dcdr.nq").read_text(encoding="utf-8").splitlines()
    assert len(store) == len(lines)


def test_dumps_parse_back_to_the_same_graph(built_mini: Project) -> None:
    dist = built_mini.dist
    dataset = _dataset(dist)
    graphs = _graphs(dataset)
    assert set(graphs) == set(GRAPH_NAMES)
    quads = Dataset()
    quads.parse(dist / "dcdr.nq", format="nquads")
    union = Graph()
    for graph in graphs.values():
        union += graph
    quad_union = Graph()
    for graph in quads.graphs():
        quad_union += graph
        name = str(graph.identifier)[len(GRAPH_BASE) :]
        if name in graphs:
            assert isomorphic(graph, graphs[name]), name
    assert isomorphic(quad_union, union)
    for name, fmt in (("dcdr.ttl", "turtle"), ("dcdr.jsonld", "json-ld")):
        parsed = Graph().parse(dist / name, format=fmt)
        assert isomorphic(parsed, union), name
    void = Graph().parse(dist / "void.ttl", format="turtle")
    assert set(graphs["meta"]) <= set(void)
    assert set(void) - set(graphs["meta"]) <= set(graphs["text"])


@pytest.mark.parametrize("build", ["built_mini", "real_dist"])
def test_regression_no_triple_is_in_two_named_graphs(
    build: str, request: pytest.FixtureRequest
) -> None:
    # Oxigraph's union default graph repeats a triple once per graph that holds it.
    built = request.getfixturevalue(build)
    graphs = _graphs(_dataset(built.dist if isinstance(built, Project) else built))
    seen: dict[object, str] = {}
    shared = []
    for name, graph in sorted(graphs.items()):
        for triple in graph:
            if triple in seen:
                shared.append((seen[triple], name, triple))
            seen[triple] = name
    assert shared == []


def test_void_counts_are_the_real_counts(built_mini: Project) -> None:
    graphs = _graphs(_dataset(built_mini.dist))
    meta = graphs["meta"]
    # The named graphs; the other subset, the figures cube, counts observations instead.
    for subset in meta.objects(DATASET_IRI, VOID.subset):
        if meta.value(subset, SD.name) is None:
            continue
        name = str(meta.value(subset, SD.name))[len(GRAPH_BASE) :]
        assert meta.value(subset, VOID.triples) == Literal(len(graphs[name])), name
    union = Graph()
    for graph in graphs.values():
        union += graph
    assert meta.value(DATASET_IRI, VOID.triples) == Literal(len(union))
    content = Graph()
    for name, graph in graphs.items():
        if name != "meta":
            content += graph
    for partition in meta.objects(DATASET_IRI, VOID.classPartition):
        cls = meta.value(partition, VOID["class"])
        expected = len(set(content.subjects(RDF.type, cls)))
        assert meta.value(partition, VOID.entities) == Literal(expected), cls
    for partition in meta.objects(DATASET_IRI, VOID.propertyPartition):
        prop = meta.value(partition, VOID.property)
        expected = len(list(content.triples((None, prop, None))))
        assert meta.value(partition, VOID.triples) == Literal(expected), prop


def test_content_hash_covers_every_graph_but_meta(built_mini: Project) -> None:
    meta_suffix = f"<{GRAPH_BASE}meta> ."
    lines = (built_mini.dist / "dcdr.nq").read_text(encoding="utf-8").splitlines()
    content = sorted(line for line in lines if not line.endswith(meta_suffix))
    digest = hashlib.sha256("".join(line + "\n" for line in content).encode()).hexdigest()
    meta = _graphs(_dataset(built_mini.dist))["meta"]
    assert meta.value(DATASET_IRI, DCTERMS.identifier) == Literal(f"sha256:{digest}")
    assert meta.value(DATASET_IRI, OWL.versionInfo) == Literal("0.0.1")
    endpoint = meta.value(DATASET_IRI, VOID.sparqlEndpoint)
    assert endpoint == URIRef("http://127.0.0.1:8000/sparql")
    report = ID["report/dcdr-2020"]
    assert meta.value(DATASET_IRI, DCTERMS.source) == report
    void = Graph().parse(built_mini.dist / "void.ttl", format="turtle")
    assert void.value(report, DCTERMS.publisher) == ID["agency/cac"]
    assert len(set(meta.objects(DATASET_IRI, VOID.dataDump))) == 5


def test_inferred_holds_entailments_and_no_noise(built_mini: Project) -> None:
    graphs = _graphs(_dataset(built_mini.dist))
    inferred = graphs["inferred"]
    asserted = Graph()
    for name in ("ontology", "text", "facts", "links"):
        asserted += graphs[name]
    assert not any(triple in asserted for triple in inferred)
    for triple in inferred:
        assert not is_noise(triple, set()), triple
        assert not any(isinstance(term, BNode) for term in triple)
    # Every direct subclass entailment of the fixture's ontology is there.
    ontology = graphs["ontology"]
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        for member in asserted.subjects(RDF.type, sub):
            if (member, RDF.type, sup) not in asserted:
                assert (member, RDF.type, sup) in inferred, (member, sup)


def test_noise_filter() -> None:
    thing = URIRef("https://w3id.org/dcdr/id/agency/cac")
    assert is_noise((thing, OWL.sameAs, thing), set())
    assert is_noise((thing, RDF.type, OWL.Thing), set())
    assert is_noise((Literal("x"), RDF.type, RDFS.Literal), set())
    assert is_noise((RDFS.label, RDF.type, OWL.AnnotationProperty), set())
    assert is_noise((BNode("made-up"), RDF.type, OWL.Class), set())
    assert not is_noise((BNode("kept"), RDF.type, OWL.Class), {BNode("kept")})
    assert not is_noise((thing, RDF.type, ID["class"]), set())


def test_builds_are_byte_identical_under_any_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "4242"):
        project = copy_mini(tmp_path / f"seed-{seed}")
        done = run_dcdr(["build"], project, {"PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        outputs.append({name: (project.dist / name).read_bytes() for name in DUMP_FILES})
    for name in DUMP_FILES:
        assert outputs[0][name] == outputs[1][name], name


def test_failed_validation_reports_one_line_per_violation_and_writes_nothing(
    mini: Project,
) -> None:
    build(mini)
    before = _snapshot(mini)
    builds_before = sorted(p.name for p in mini.builds_dir.iterdir())
    with (mini.root / "graph" / "facts" / "broken.ttl").open("w", encoding="utf-8") as handle:
        handle.write(BROKEN_OBSERVATION)
    done = run_dcdr(["build"], mini)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "observation/broken" in line]
    assert len(lines) == 1, done.stderr
    assert "dcdr:metric" in lines[0] and "shacl" in lines[0]
    assert _snapshot(mini) == before
    assert sorted(p.name for p in mini.builds_dir.iterdir()) == builds_before


def test_broken_source_is_one_line_naming_the_file(mini: Project) -> None:
    (mini.root / "graph" / "facts" / "bad.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"bad\.ttl"):
        build(mini)
    assert not mini.dist.exists()


@pytest.mark.parametrize("stage", ["dumps", "renamed"])
def test_killed_build_leaves_the_previous_dist_whole(mini: Project, stage: str) -> None:
    build(mini)
    before = _snapshot(mini)
    # A different build (new content) that is killed at `stage`.
    (mini.root / "graph" / "facts" / "links" / "more.ttl").write_text(
        "<https://w3id.org/dcdr/id/agency/cac> <http://www.w3.org/2004/02/skos/core#closeMatch> "
        "<http://www.wikidata.org/entity/Q1> .\n",
        encoding="utf-8",
    )
    marker = mini.root / "held"
    env = dict(os.environ)
    env.update(
        DCDR_ROOT=str(mini.root),
        DCDR_DIST=str(mini.dist),
        PYTHONPATH=str(ROOT),
        DCDR_BUILD_HOLD_AT=stage,
        DCDR_BUILD_HOLD_FILE=str(marker),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "build"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the build ended before reaching the hold point"
            assert time.monotonic() < deadline, "the build never reached the hold point"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _snapshot(mini) == before
    _verify_sums(mini.dist)
    # The next build succeeds and clears what the killed one left.
    result = build(mini)
    assert mini.dist.resolve() == result.path.resolve()
    leftovers = [p.name for p in mini.builds_dir.iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_old_builds_are_pruned(mini: Project) -> None:
    first = build(mini).path
    second = build(mini).path
    third = build(mini).path
    kept = sorted(p.resolve() for p in mini.builds_dir.iterdir() if not p.name.startswith("."))
    assert kept == sorted([second.resolve(), third.resolve()])
    assert not first.exists()


def test_dist_that_is_a_real_folder_is_not_replaced(mini: Project) -> None:
    mini.dist.mkdir()
    (mini.dist / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(PublishError, match="not a symlink"):
        build(mini)
    assert (mini.dist / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_public_base_is_a_setting(mini: Project) -> None:
    build(mini, public_base="https://dcdr.example.org/kg/")
    meta = Graph().parse(mini.dist / "void.ttl", format="turtle")
    endpoint = meta.value(DATASET_IRI, VOID.sparqlEndpoint)
    assert endpoint == URIRef("https://dcdr.example.org/kg/sparql")
    dumps = {str(url) for url in meta.objects(DATASET_IRI, VOID.dataDump)}
    assert "https://dcdr.example.org/kg/dumps/dcdr.trig" in dumps


def test_real_sources_build_is_valid_and_reproducible(tmp_path: Path) -> None:
    """The project's own sources, built twice under different hash seeds; passes once the
    curated facts are complete and valid."""
    outputs = []
    for seed in ("0", "777"):
        project = Project(root=ROOT, dist=tmp_path / f"seed-{seed}" / "dist")
        done = run_dcdr(["build"], project, {"PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert sorted(_verify_sums(project.dist)) == sorted(
            set(DUMP_FILES + TABLE_FILES) - {"SHA256SUMS"}
        )
        outputs.append(
            {name: (project.dist / name).read_bytes() for name in DUMP_FILES + TABLE_FILES}
        )
    for name in DUMP_FILES + TABLE_FILES:
        assert outputs[0][name] == outputs[1][name], name
    graphs = _graphs(_dataset(tmp_path / "seed-0" / "dist"))
    assert len(graphs["text"]) > 0 and len(graphs["facts"]) > 0 and len(graphs["inferred"]) > 0


def test_check_queries_turn_rows_into_problems(tmp_path: Path) -> None:
    from graph.validation import check_query_problems

    graph = Graph()
    sentence = ID["sentence/p4-s1-01"]
    graph.add((ID["observation/o"], URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), sentence))
    dangling = ROOT / "queries" / "checks" / "text-dangling-text-iris.rq"
    broken = tmp_path / "broken.rq"
    broken.write_text("SELECT WHERE {", encoding="utf-8")
    ask = tmp_path / "ask.rq"
    ask.write_text("ASK { ?s ?p ?o }", encoding="utf-8")
    problems = check_query_problems(graph, [dangling, broken, ask])
    by_rule = {problem.rule: problem for problem in problems}
    assert len(problems) == 3
    assert by_rule["check text-dangling-text-iris.rq"].focus == "id:sentence/p4-s1-01"
    assert "prov:wasDerivedFrom" in by_rule["check text-dangling-text-iris.rq"].message
    assert "does not run" in by_rule["check broken.rq"].message
    assert by_rule["check ask.rq"].rule == "check ask.rq"
    graph.add((sentence, RDF.type, URIRef("http://example.org/Sentence")))
    assert check_query_problems(graph, [dangling]) == []


def test_a_crashing_check_is_a_problem_not_a_traceback() -> None:
    from graph.validation import _guarded

    def explode(graph: Graph) -> list[Problem]:
        raise RuntimeError("boom")

    problems = _guarded("coverage", explode, Graph())
    assert [(problem.rule, "boom" in problem.message) for problem in problems] == [
        ("coverage", True)
    ]


def test_regression_every_thing_iri_is_a_lowercase_slug(real_dist: Path) -> None:
    # VoID partitions were named after compact IRIs (`dataset/class/dcdr-Agency`); the
    # contract's slugs are lowercase ASCII words joined by `-`.
    slug = re.compile(r"[a-z]+(/[a-z0-9]+(-[a-z0-9]+)*)*")
    dataset = Dataset()
    dataset.parse(real_dist / "dcdr.nq", format="nquads")
    things = {
        str(term)[len(str(ID)) :]
        for quad in dataset.quads()
        for term in quad[:3]
        if isinstance(term, URIRef) and str(term).startswith(str(ID))
    }
    assert sorted(path for path in things if not slug.fullmatch(path)) == []

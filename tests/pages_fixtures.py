"""A small dataset in the layout of `dist/` for the page tests, and the way to the real one.

The small dataset follows ../shared/DESIGN.md's patterns (NIF text layer with offsets, an
observation per figure with `prov:wasDerivedFrom`, metrics with `skos:broader`, a Wikidata link)
and adds one hostile label to check escaping. It is written with the project's own
`graph.dumps.write_dumps`, so the server opens it exactly like a real build.

The browser and walk tests use the REAL graph through the session fixture `real_dist`
(tests/conftest.py), built from the current sources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from rdflib import BNode, Graph, Literal, URIRef

from graph.dumps import write_dumps
from graph.namespaces import (
    DATASET_IRI,
    DCDR,
    DCTERMS,
    ID,
    NIF,
    ONTOLOGY_IRI,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SD,
    SKOS,
    VOID,
    WD,
    XSD,
    graph_iri,
)
from graph.void import DEFAULT_PUBLIC_BASE

S0 = "智慧法院建设推动审判执行全流程依法公开。"
S1 = (
    "截至2020年底,中国庭审公开网累计直播庭审1100余万场,访问量超过319亿人次;"
    "中国裁判文书网文书总量达到1.1亿份,访问总量530亿人次。"
)
S2 = "2020年,杭州互联网法院共受理涉互联网案件1.1万余件,100%在线开庭审理。"
CONTEXT_TEXT = S0 + S1 + S2

AGENCY = ID["agency/supreme-peoples-court"]
JUDGEMENTS = ID["platform/china-judgements-online"]
TRIALS = ID["platform/china-court-trial-online"]
HANGZHOU = ID["agency/hangzhou-internet-court"]
REGION = ID["region/zhejiang"]
XSS = ID["agency/xss-test"]
VISITS = ID["metric/visits"]
USAGE = ID["metric/usage"]
DOCUMENTS = ID["metric/documents-published"]
CASES = ID["metric/cases-accepted"]
UNIT_VISIT = ID["unit/visit"]
UNIT_DOCUMENT = ID["unit/document"]
UNIT_CASE = ID["unit/case"]
OBS_DOCS = ID["observation/china-judgements-online-documents-2020"]
OBS_JUDGEMENT_VISITS = ID["observation/china-judgements-online-visits-2020"]
OBS_TRIAL_VISITS = ID["observation/china-court-trial-online-visits-2020"]
OBS_CASES = ID["observation/hangzhou-internet-court-cases-2020"]
MENTION = ID["phrase/china-court-trial-online-visits-2020"]
SENTENCES = [ID[f"sentence/p4-s4-{n:02d}"] for n in (1, 2, 3)]
PARAGRAPH = ID["paragraph/p4-s4-p1"]
SECTION = ID["section/p4-s4"]
CONTEXT = ID["context/dcdr-2020-p4"]
REPORT = ID["report/dcdr-2020"]
WIKIDATA_COURT = WD["Q1365542"]
XSS_LABEL = '<script>alert("xss")</script>"onerror=alert(1) x'
XSS_LABEL_ZH = "<img src=x onerror=alert(2)>测试"


def _labels(graph: Graph, node: URIRef, zh: str, en: str) -> None:
    graph.add((node, RDFS.label, Literal(zh, lang="zh")))
    graph.add((node, RDFS.label, Literal(en, lang="en")))


def text_graph() -> Graph:
    g = Graph()
    g.add((REPORT, RDF.type, DCDR.Report))
    _labels(g, REPORT, "数字中国发展报告(2020年)", "Digital China Development Report (2020)")
    g.add((REPORT, DCTERMS.hasPart, SECTION))
    g.add((SECTION, DCTERMS.isPartOf, REPORT))
    _labels(g, SECTION, "(四)电子政务支撑行政效能加快提升", "(4) E-government and efficiency")
    g.add((PARAGRAPH, DCTERMS.isPartOf, SECTION))
    g.add((CONTEXT, RDF.type, NIF.Context))
    g.add((CONTEXT, NIF.isString, Literal(CONTEXT_TEXT)))
    begin = 0
    for sentence, text in zip(SENTENCES, (S0, S1, S2), strict=True):
        g.add((sentence, RDF.type, NIF.Sentence))
        g.add((sentence, NIF.anchorOf, Literal(text)))
        g.add((sentence, NIF.beginIndex, Literal(begin)))
        g.add((sentence, NIF.endIndex, Literal(begin + len(text))))
        g.add((sentence, NIF.referenceContext, CONTEXT))
        g.add((sentence, DCTERMS.isPartOf, PARAGRAPH))
        g.add((PARAGRAPH, DCTERMS.hasPart, sentence))
        begin += len(text)
    start = CONTEXT_TEXT.index("319亿人次")
    g.add((MENTION, RDF.type, NIF.Phrase))
    g.add((MENTION, NIF.anchorOf, Literal("319亿人次")))
    g.add((MENTION, NIF.beginIndex, Literal(start)))
    g.add((MENTION, NIF.endIndex, Literal(start + len("319亿人次"))))
    g.add((MENTION, NIF.referenceContext, CONTEXT))
    return g


def _observation(g: Graph, node: URIRef, about: URIRef, metric: URIRef, **fields: Any) -> None:
    g.add((node, RDF.type, DCDR.Observation))
    g.add((node, DCDR.about, about))
    g.add((node, DCDR.metric, metric))
    g.add((node, DCDR.value, Literal(fields["value"])))
    g.add((node, DCDR.unit, fields["unit"]))
    g.add((node, DCDR.comparator, fields["comparator"]))
    g.add((node, DCDR.statedAs, Literal(fields["stated"], lang="zh")))
    g.add((node, PROV.wasDerivedFrom, fields["sentence"]))
    if "as_of" in fields:
        g.add((node, DCDR.asOf, Literal(fields["as_of"], datatype=XSD.date)))
    if "period" in fields:
        g.add((node, DCDR.period, Literal(fields["period"], datatype=XSD.gYear)))


def facts_graph() -> Graph:
    g = Graph()
    for node, cls, zh, en in (
        (AGENCY, DCDR.Agency, "最高人民法院", "Supreme People's Court"),
        (HANGZHOU, DCDR.Agency, "杭州互联网法院", "Hangzhou Internet Court"),
        (JUDGEMENTS, DCDR.Platform, "中国裁判文书网", "China Judgements Online"),
        (TRIALS, DCDR.Platform, "中国庭审公开网", "China Court Trial Online"),
        (REGION, DCDR.Region, "浙江省", "Zhejiang"),
        (USAGE, DCDR.Metric, "使用量", "Usage"),
        (VISITS, DCDR.Metric, "访问量", "Visits"),
        (DOCUMENTS, DCDR.Metric, "文书总量", "Documents published"),
        (CASES, DCDR.Metric, "受理案件数", "Cases accepted"),
        (UNIT_VISIT, DCDR.Unit, "人次", "visits"),
        (UNIT_DOCUMENT, DCDR.Unit, "份", "documents"),
        (UNIT_CASE, DCDR.Unit, "件", "cases"),
    ):
        g.add((node, RDF.type, cls))
        _labels(g, node, zh, en)
    g.add((XSS, RDF.type, DCDR.Agency))
    g.add((XSS, RDFS.label, Literal(XSS_LABEL, lang="en")))
    g.add((XSS, RDFS.label, Literal(XSS_LABEL_ZH, lang="zh")))
    g.add((XSS, RDFS.comment, Literal('"><svg onload=alert(3)>', lang="en")))
    g.add((JUDGEMENTS, SKOS.altLabel, Literal("裁判文书网", lang="zh")))
    g.add((VISITS, SKOS.broader, USAGE))
    g.add((DOCUMENTS, SKOS.broader, USAGE))
    for platform in (JUDGEMENTS, TRIALS):
        g.add((platform, DCDR.operatedBy, AGENCY))
    g.add((HANGZHOU, DCDR.locatedIn, REGION))
    # A chain of blank nodes, to check that descriptions close over them.
    address, locality = BNode(), BNode()
    g.add((HANGZHOU, SCHEMA.address, address))
    g.add((address, RDF.type, SCHEMA.PostalAddress))
    g.add((address, SCHEMA.addressRegion, locality))
    g.add((locality, RDFS.label, Literal("杭州市", lang="zh")))
    s1 = SENTENCES[1]
    _observation(
        g,
        OBS_DOCS,
        JUDGEMENTS,
        DOCUMENTS,
        value=110000000,
        unit=UNIT_DOCUMENT,
        comparator=DCDR.exactly,
        stated="1.1亿份",
        sentence=s1,
        as_of="2020-12-31",
    )
    _observation(
        g,
        OBS_JUDGEMENT_VISITS,
        JUDGEMENTS,
        VISITS,
        value=53000000000,
        unit=UNIT_VISIT,
        comparator=DCDR.exactly,
        stated="530亿人次",
        sentence=s1,
        as_of="2020-12-31",
    )
    _observation(
        g,
        OBS_TRIAL_VISITS,
        TRIALS,
        VISITS,
        value=31900000000,
        unit=UNIT_VISIT,
        comparator=DCDR.moreThan,
        stated="319亿人次",
        sentence=s1,
        as_of="2020-12-31",
    )
    g.add((OBS_TRIAL_VISITS, DCDR.mention, MENTION))
    _observation(
        g,
        OBS_CASES,
        HANGZHOU,
        CASES,
        value=11000,
        unit=UNIT_CASE,
        comparator=DCDR.moreThan,
        stated="1.1万余件",
        sentence=SENTENCES[2],
        period="2020",
    )
    return g


def links_graph() -> Graph:
    g = Graph()
    g.add((AGENCY, OWL.sameAs, WIKIDATA_COURT))
    return g


def ontology_graph() -> Graph:
    g = Graph()
    onto = ONTOLOGY_IRI
    g.add((onto, RDF.type, OWL.Ontology))
    _labels(g, onto, "数字中国发展报告本体", "DCDR ontology")
    for name, zh, en in (
        ("Agency", "机构", "Agency"),
        ("Platform", "平台", "Platform"),
        ("Region", "地区", "Region"),
        ("Metric", "指标", "Metric"),
        ("Unit", "单位", "Unit"),
        ("Observation", "观测", "Observation"),
        ("Report", "报告", "Report"),
    ):
        g.add((DCDR[name], RDF.type, OWL.Class))
        _labels(g, DCDR[name], zh, en)
    g.add((DCDR.Agency, RDFS.subClassOf, ORG.Organization))
    for name, zh, en in (
        ("operatedBy", "运营机构", "operated by"),
        ("about", "关于", "about"),
        ("metric", "指标", "metric"),
        ("locatedIn", "位于", "located in"),
    ):
        g.add((DCDR[name], RDF.type, OWL.ObjectProperty))
        _labels(g, DCDR[name], zh, en)
    g.add((DCDR.Agency, RDFS.comment, Literal("A government body named by the report.", lang="en")))
    return g


def inferred_graph() -> Graph:
    g = Graph()
    for agency in (AGENCY, HANGZHOU, XSS):
        g.add((agency, RDF.type, ORG.Organization))
    return g


def meta_graph(content: dict[str, Graph]) -> Graph:
    g = Graph()
    g.add((DATASET_IRI, RDF.type, VOID.Dataset))
    _labels(g, DATASET_IRI, "数字中国发展报告(2020)知识图谱(测试)", "DCDR KG (test data)")
    g.add((DATASET_IRI, DCTERMS.title, Literal("DCDR KG (test data)", lang="en")))
    g.add((DATASET_IRI, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    g.add((DATASET_IRI, OWL.versionInfo, Literal("test-1")))
    g.add((DATASET_IRI, DCTERMS.source, REPORT))
    # Where `dcdr build` says the server is by default; the server states its own address.
    g.add((DATASET_IRI, VOID.sparqlEndpoint, URIRef(DEFAULT_PUBLIC_BASE + "sparql")))
    g.add((DATASET_IRI, VOID.dataDump, URIRef(DEFAULT_PUBLIC_BASE + "dumps/dcdr.nq")))
    for name, graph in content.items():
        subset = ID[f"dataset/graph/{name}"]
        g.add((DATASET_IRI, VOID.subset, subset))
        g.add((subset, SD.name, graph_iri(name)))
        g.add((subset, VOID.triples, Literal(len(graph))))
    return g


def fixture_graphs() -> dict[URIRef, Graph]:
    """Every named graph of the small dataset, keyed by graph IRI."""
    content = {
        "ontology": ontology_graph(),
        "shapes": Graph(),
        "text": text_graph(),
        "facts": facts_graph(),
        "links": links_graph(),
        "inferred": inferred_graph(),
    }
    content["meta"] = meta_graph(content)
    graphs: dict[URIRef, Graph] = {}
    for name, graph in content.items():
        named = Graph(identifier=graph_iri(name))
        named += graph
        graphs[graph_iri(name)] = named
    return graphs


def union_graph() -> Graph:
    """The union of the small dataset's graphs (what a query with no FROM sees)."""
    union = Graph()
    for graph in fixture_graphs().values():
        union += graph
    return union


def build_fixture_dist(folder: Path) -> Path:
    """Writes the small dataset as a complete dist folder (dumps, store, SHA256SUMS)."""
    folder.mkdir(parents=True, exist_ok=True)
    graphs = fixture_graphs()
    write_dumps(folder, graphs, graphs[graph_iri("meta")])
    return folder


def make_app(dist: Path) -> Flask:
    """The real app (`create_app`) over one dist folder, with a small query pool."""
    from server import create_app

    app = create_app({"dist": dist, "query_workers": 2, "cache_bytes": 0, "access_log": False})
    app.config["TESTING"] = True
    return app


def close_app(app: Flask) -> None:
    store = app.extensions["dcdr"].store
    close = getattr(store, "close", None)
    if callable(close):
        close()

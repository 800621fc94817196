"""The page-test dataset (tests/pages_fixtures.py) with the time and measure-type statements of
the contract (`dcdr:measureType`, `dcdr:refDate`, `dcdr:timeBasis`), for the workbench pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef

from graph import figures_table
from graph.cube import with_cube_links
from graph.dumps import write_dumps
from graph.namespaces import DCDR, DCTERMS, RDF, RDFS, SCHEMA, XSD, graph_iri
from tests import pages_fixtures as fx

MEASURE_TYPES = {fx.VISITS: "Stock", fx.DOCUMENTS: "Stock", fx.CASES: "Flow"}
REF_DATES = {
    fx.OBS_DOCS: ("2020-12-31", "statedInSentence"),
    fx.OBS_JUDGEMENT_VISITS: ("2020-12-31", "statedInSentence"),
    fx.OBS_TRIAL_VISITS: ("2020-12-31", "statedInSentence"),
    fx.OBS_CASES: ("2020-12-31", "statedInContext"),
}
TERM_LABELS = {
    "Stock": ("存量", "stock"),
    "Flow": ("流量", "flow"),
    "statedInSentence": ("本句所述", "stated in its sentence"),
    "statedInContext": ("上下文所述", "stated in its context"),
}
PART4 = fx.ID["part/dcdr-2020-p4"]
CAC = fx.ID["agency/cac"]


def extra_facts() -> Graph:
    g = Graph()
    for metric, kind in MEASURE_TYPES.items():
        g.add((metric, DCDR.measureType, DCDR[kind]))
    for obs, (date, basis) in REF_DATES.items():
        g.add((obs, DCDR.refDate, Literal(date, datatype=XSD.date)))
        g.add((obs, DCDR.timeBasis, DCDR[basis]))
    g.add((fx.OBS_CASES, DCDR.timeSource, fx.SENTENCES[1]))
    return g


def extra_ontology() -> Graph:
    g = Graph()
    for name, (zh, en) in TERM_LABELS.items():
        g.add((DCDR[name], RDFS.label, Literal(zh, lang="zh")))
        g.add((DCDR[name], RDFS.label, Literal(en, lang="en")))
    return g


def extra_text() -> Graph:
    """What the real text layer says of the report and Part 4 (for citations)."""
    g = Graph()
    g.add((fx.REPORT, DCTERMS.publisher, CAC))
    g.add((fx.REPORT, DCTERMS.issued, Literal("2021-04-25", datatype=XSD.date)))
    g.add((fx.REPORT, DCTERMS.hasPart, PART4))
    g.add((PART4, DCTERMS.isPartOf, fx.REPORT))
    g.add((fx.SECTION, DCTERMS.isPartOf, PART4))
    g.add((PART4, RDFS.label, Literal("数字中国发展报告(2020年)第四部分", lang="zh")))
    g.add(
        (PART4, RDFS.label, Literal("Digital China Development Report (2020), Part 4", lang="en"))
    )
    g.add((PART4, DCTERMS.alternative, Literal("数字政府治理效能持续提升", lang="zh")))
    g.add((PART4, DCTERMS.alternative, Literal("Digital government keeps improving", lang="en")))
    g.add((fx.SECTION, SCHEMA.position, Literal(4)))
    g.add((fx.SECTION, RDF.type, DCDR.Section))
    for number, sentence in enumerate(fx.SENTENCES, start=1):
        g.add((sentence, SCHEMA.position, Literal(number)))
    g.add((CAC, RDFS.label, Literal("国家互联网信息办公室", lang="zh")))
    g.add((CAC, RDFS.label, Literal("Cyberspace Administration of China", lang="en")))
    return g


def build_workbench_dist(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    graphs = fx.fixture_graphs()
    extras: dict[URIRef, Graph] = {
        graph_iri("facts"): extra_facts(),
        graph_iri("ontology"): extra_ontology(),
        graph_iri("text"): extra_text(),
    }
    for iri, extra in extras.items():
        graphs[iri] += extra
    with_cube_links(graphs[graph_iri("facts")])  # as the build does
    # As `dcdr build` does: the figures tables of the asserted graphs beside the dumps.
    asserted = Graph()
    for graph_name in ("ontology", "text", "facts", "links"):
        asserted += graphs[graph_iri(graph_name)]
    tables = figures_table.dist_files(asserted)
    write_dumps(folder, graphs, graphs[graph_iri("meta")], tables)
    return folder


def running_app(factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The real app over the workbench dataset, closed after use (for module fixtures)."""
    app = fx.make_app(build_workbench_dist(factory.mktemp("workbench") / "dist"))
    yield app
    fx.close_app(app)


def parse_page(client: FlaskClient, url: str) -> Any:
    """The HTML page at `url` (which must answer 200) as an html5lib tree."""
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html5lib.parse(response.data, namespaceHTMLElements=True)

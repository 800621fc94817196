"""`/report`: Part 4 to read with every figure marked and linked; section and paragraph pages
list their figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.pages.figure_records import FigureRecord
from server.pages.report_pages import Mark, cut
from tests import pages_fixtures as fx
from tests.workbench_fixtures import parse_page as tree

HTML = {"Accept": "text/html"}
NS = "{http://www.w3.org/1999/xhtml}"
OBSERVATIONS = {fx.OBS_DOCS, fx.OBS_JUDGEMENT_VISITS, fx.OBS_TRIAL_VISITS, fx.OBS_CASES}


@pytest.fixture()
def client(workbench_app: Flask) -> FlaskClient:
    return workbench_app.test_client()


def local(iri: str) -> str:
    return "/id/" + iri.split("/id/", 1)[1]


def test_every_figure_is_marked_and_links_to_its_observation(client: FlaskClient) -> None:
    page = tree(client, "/report?lang=zh")
    mentions = [a for a in page.iter(NS + "a") if a.get("class") == "figure-mention"]
    assert {a.get("href") for a in mentions} == {local(str(obs)) for obs in OBSERVATIONS}
    marks = {a.get("href"): "".join(a.itertext()) for a in mentions}
    # The trial-visits figure has a nif:Phrase mention; its span decides the mark.
    assert marks[local(str(fx.OBS_TRIAL_VISITS))] == "319亿人次"
    assert marks[local(str(fx.OBS_CASES))] == "1.1万余件"


def test_the_text_reads_as_in_the_report(client: FlaskClient) -> None:
    page = tree(client, "/report")
    paragraphs = [p for p in page.iter(NS + "p") if p.get("class") == "report-paragraph"]
    assert [p.get("id") for p in paragraphs] == ["p4-s4-p1"]
    sentences = [s for s in paragraphs[0].iter(NS + "span") if s.get("class") == "sentence"]
    assert "".join("".join(s.itertext()) for s in sentences) == fx.CONTEXT_TEXT
    headings = ["".join(h.itertext()) for h in page.iter(NS + "h2")]
    assert len(headings) == 1 and headings[0].endswith("E-government and efficiency")


@pytest.mark.parametrize("path", ["/id/section/p4-s4", "/id/paragraph/p4-s4-p1"])
def test_section_and_paragraph_pages_list_their_figures(client: FlaskClient, path: str) -> None:
    page = tree(client, path + "?lang=en")
    table = next(t for t in page.iter(NS + "table") if "figures" in (t.get("class") or ""))
    links = {a.get("href") for a in table.iter(NS + "a")}
    assert {local(str(obs)) for obs in OBSERVATIONS} <= links


def record(slug: str, stated: str, mention: tuple[int, int] | None = None) -> FigureRecord:
    return FigureRecord(observation=str(fx.ID["observation/" + slug]), stated_as=stated, value=1,
                        mention=mention)  # fmt: skip


def test_two_figures_of_one_phrase_share_a_mark_and_keep_both_links(workbench_app: Flask) -> None:
    text = "访问量超过319亿人次。"
    with workbench_app.test_request_context("/report"):
        pieces = cut(
            text, 100, [record("a", "319亿人次", (105, 111)), record("b", "超过319亿人次")], "en"
        )
    marks = [piece for piece in pieces if isinstance(piece, Mark)]
    assert len(marks) == 1
    assert [href.rsplit("/", 1)[-1] for href, _ in marks[0].figures] == ["b", "a"]
    assert "".join(p if isinstance(p, str) else p.text for p in pieces) == text


def test_a_sections_figures_are_listed_in_the_reports_order(real_dist: Path) -> None:
    """They were listed by IRI, so section 4 opened with 中国裁判文书网's 1.1亿份 (s4-07)
    instead of the CPPCC platform's 14.7万条 (s4-03)."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(path=str(real_dist / "dcdr.nq"), format=ox.RdfFormat.N_QUADS)
    solutions = store.query(
        "PREFIX dcdr: <https://w3id.org/dcdr/ontology#> "
        "PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> "
        "SELECT ?obs ?begin { GRAPH ?g { ?obs dcdr:mention/nif:beginIndex ?begin } }",
    )
    assert isinstance(solutions, ox.QuerySolutions)
    offsets = {row["obs"].value: int(row["begin"].value) for row in solutions}
    app = fx.make_app(real_dist)
    try:
        page = tree(app.test_client(), "/id/section/p4-s4?lang=zh")
    finally:
        fx.close_app(app)
    listed = [
        "https://w3id.org/dcdr" + a.get("href")
        for td in page.iter(NS + "td")
        if td.get("class") == "stated"
        for a in td.iter(NS + "a")
    ]
    assert len(listed) > 5 and listed == sorted(listed, key=offsets.__getitem__)

"""Resource pages, browsing, languages, charts and the query UI, through `create_app`."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal
from rdflib.compare import isomorphic

from graph import paths
from graph.namespaces import RDF, RDFS, SD
from server.pages import charts, i18n
from tests import pages_fixtures as fx

HTML = {"Accept": "text/html"}
NS = "{http://www.w3.org/1999/xhtml}"
EXAMPLE = """# title: Platforms and their figures
# question (zh): 各平台有哪些数字?
# question (en): Which figures does each platform report?
PREFIX dcdr: <https://w3id.org/dcdr/ontology#>
SELECT ?platform ?value WHERE { ?o dcdr:about ?platform ; dcdr:value ?value } ORDER BY ?value
"""


@pytest.fixture()
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "platform-figures.rq").write_text(EXAMPLE, encoding="utf-8")
    monkeypatch.setattr(paths, "EXAMPLES_DIR", folder)
    return folder


def page(client: FlaskClient, url: str, **headers: str) -> Any:
    response = client.get(url, headers={**HTML, **headers})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html5lib.parse(response.data, namespaceHTMLElements=True)


def texts(tree: Any, tag: str) -> list[str]:
    return ["".join(node.itertext()) for node in tree.iter(NS + tag)]


def test_platform_page_shows_figures_with_the_figure_highlighted(client: FlaskClient) -> None:
    tree = page(client, "/id/platform/china-judgements-online")
    body = "".join(tree.itertext())
    assert "110,000,000" in body and "53,000,000,000" in body
    assert sorted(texts(tree, "mark")) == ["1.1亿份", "530亿人次"]
    links = [a.get("href") for a in tree.iter(NS + "a")]
    assert "/id/sentence/p4-s4-02" in links
    assert "/id/metric/visits" in links


def test_mention_offsets_decide_the_highlight(client: FlaskClient) -> None:
    tree = page(client, "/id/platform/china-court-trial-online")
    assert texts(tree, "mark") == ["319亿人次"]
    assert "more than" in "".join(tree.itertext())


def test_comparator_and_period_in_chinese(client: FlaskClient) -> None:
    tree = page(client, "/id/agency/hangzhou-internet-court?lang=zh")
    body = "".join(tree.itertext())
    assert i18n.COMPARATOR_WORDS["moreThan"]["zh"] in body
    assert "期间 2020" in body
    assert texts(tree, "mark") == ["1.1万余件"]


def test_sentence_page_shows_its_paragraph_and_section(client: FlaskClient) -> None:
    tree = page(client, "/id/sentence/p4-s4-02")
    assert texts(tree, "mark")[0] == fx.S1
    body = "".join(tree.itertext())
    assert fx.S0 in body and fx.S2 in body
    links = [a.get("href") for a in tree.iter(NS + "a")]
    assert "/id/section/p4-s4" in links
    assert "/id/sentence/p4-s4-01" in links
    # The figures drawn from the sentence are listed too.
    assert "/id/observation/china-court-trial-online-visits-2020" in links


def test_metric_page_draws_a_chart_of_comparable_figures(client: FlaskClient) -> None:
    tree = page(client, "/id/metric/visits")
    svgs = list(tree.iter("{http://www.w3.org/2000/svg}svg"))
    assert len(svgs) == 1
    rects = list(svgs[0].iter("{http://www.w3.org/2000/svg}rect"))
    widths = sorted(float(rect.get("width")) for rect in rects)
    assert len(widths) == 2
    assert widths[0] / widths[1] == pytest.approx(319 / 530, rel=0.01)
    values = ["".join(t.itertext()) for t in svgs[0].iter("{http://www.w3.org/2000/svg}text")]
    assert "53,000,000,000" in values and "31,900,000,000" in values


def test_metric_page_lists_figures_of_narrower_metrics(client: FlaskClient) -> None:
    tree = page(client, "/id/metric/usage")
    hrefs = {a.get("href") for a in tree.iter(NS + "a")}
    narrower = {fx.OBS_DOCS, fx.OBS_JUDGEMENT_VISITS, fx.OBS_TRIAL_VISITS}
    assert {str(iri).replace("https://w3id.org/dcdr", "") for iri in narrower} <= hrefs


def test_metric_page_never_charts_narrower_metrics_together(client: FlaskClient) -> None:
    tree = page(client, "/id/metric/usage")
    svgs = list(tree.iter("{http://www.w3.org/2000/svg}svg"))
    # Visits (two figures, one unit) make one chart; documents published stay out of it.
    assert [len(list(svg.iter("{http://www.w3.org/2000/svg}rect"))) for svg in svgs] == [2]


def test_bar_chart_layout() -> None:
    items = [
        charts.ChartItem("a", Decimal(10), "10"),
        charts.ChartItem("b", Decimal(40), "40"),
        charts.ChartItem("c", Decimal(0), "0"),
    ]
    chart = charts.bar_chart("t", items)
    assert chart is not None
    assert [bar.label for bar in chart.bars] == ["b", "a", "c"]
    assert chart.bars[0].width == charts.BAR_AREA
    assert chart.bars[1].width == charts.BAR_AREA / 4
    assert chart.bars[2].width == charts.MIN_BAR
    assert charts.bar_chart("t", items[:1]) is None


@pytest.mark.parametrize(
    ("second_unit", "second_type"),
    [("unit/occurrence", "dcdr:Stock"), ("unit/person-time", "dcdr:Flow")],
    ids=["two-units", "two-measure-types"],
)
def test_bar_chart_refuses_figures_that_cannot_be_compared(
    second_unit: str, second_type: str
) -> None:
    # 530亿人次 to the end of 2020 beside 8100万次 (times) or 7247万人次 in 2020 alone.
    items = [
        charts.ChartItem(
            "a", Decimal(530), "530", unit="unit/person-time", measure_type="dcdr:Stock"
        ),
        charts.ChartItem("b", Decimal(81), "81", unit=second_unit, measure_type=second_type),
    ]
    with pytest.raises(charts.IncomparableFigures):
        charts.bar_chart("t", items)


OFFICE = "https://w3id.org/dcdr/id/agency/state-council-general-office-inspection-office"
PILOT = "https://w3id.org/dcdr/id/observation/website-consolidation-pilot-regions-completed"


def test_figure_without_a_date_in_its_sentence_shows_its_reference_date_and_basis(
    real_dist: Path,
) -> None:
    # 10万余条 (p4-s6-04) is dated by the sentence before it, 11个 (p4-s1-04) by nothing.
    app = fx.make_app(real_dist)
    try:
        with app.test_request_context("/?lang=en"):
            office = charts.figures(f"?obs dcdr:about <{OFFICE}> .", "en")
            pilot = charts.figures(f"VALUES ?obs {{ <{PILOT}> }}", "en")
    finally:
        fx.close_app(app)
    assert {row.date for row in office} == {"2020-12-31 (stated in context)"}
    assert [row.date for row in pilot] == ["2020-12-31 (report coverage)"]


def _figure_row(name: str, value: int, measure_type: str) -> charts.FigureRow:
    link = charts.Link(iri=name, label=name, href=None, compact=name, external=False)
    return charts.FigureRow(
        obs=link,
        about=link,
        metric=link,
        unit=link,
        value=value,
        value_text=str(value),
        stated_as="",
        comparator="",
        date="",
        sentence=None,
        highlighted=None,
        metric_iri="metric/m",
        unit_iri="unit/person-time",
        measure_type_iri=measure_type,
    )


def test_comparable_charts_draw_stocks_and_flows_apart() -> None:
    rows = [
        _figure_row("s1", 530, "Stock"),
        _figure_row("s2", 319, "Stock"),
        _figure_row("f1", 72, "Flow"),
        _figure_row("f2", 10, "Flow"),
    ]
    drawn = charts.comparable_charts(rows)
    assert sorted(sorted(bar.label for bar in chart.bars) for chart in drawn) == [
        ["f1", "f2"],
        ["s1", "s2"],
    ]


def test_highlight_prefers_offsets_and_falls_back_to_the_text() -> None:
    text = "访问量超过319亿人次。"
    by_offsets = charts.highlight(text, "", 100, (105, 111))
    assert by_offsets.figure == "319亿人次"
    by_text = charts.highlight(text, "319亿人次", None, None)
    assert (by_text.before, by_text.figure, by_text.after) == ("访问量超过", "319亿人次", "。")
    assert charts.highlight(text, "42", None, None).figure == ""
    assert charts.format_number(Decimal("1775.1")) == "1,775.1"


def test_wikidata_link_is_marked_external(client: FlaskClient) -> None:
    tree = page(client, "/id/agency/supreme-peoples-court")
    external = [a for a in tree.iter(NS + "a") if a.get("href") == str(fx.WIKIDATA_COURT)]
    assert external and external[0].get("rel") == "external"


def test_language_follows_accept_language_and_the_switch(client: FlaskClient) -> None:
    response = client.get(
        "/id/agency/supreme-peoples-court", headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9"}
    )
    tree = html5lib.parse(response.data)
    assert tree.get("lang") == "zh"
    assert texts(tree, "h1") == ["最高人民法院"]
    labels = texts(tree, "li")
    assert labels.index("最高人民法院 @zh") < labels.index("Supreme People's Court @en")
    switched = client.get(
        "/id/agency/supreme-peoples-court?lang=en", headers={**HTML, "Accept-Language": "zh"}
    )
    assert html5lib.parse(switched.data).get("lang") == "en"
    assert "lang=en" in switched.headers["Set-Cookie"]
    # The cookie keeps the choice on the next page.
    again = client.get("/", headers={**HTML, "Accept-Language": "zh"})
    assert html5lib.parse(again.data).get("lang") == "en"


def test_choose_language() -> None:
    assert i18n.choose_language(None, None, [("zh-CN", 1.0), ("en", 0.5)]) == "zh"
    assert i18n.choose_language(None, None, [("fr", 1.0), ("en", 0.3), ("zh", 0.2)]) == "en"
    assert i18n.choose_language(None, "zh", [("en", 1.0)]) == "zh"
    assert i18n.choose_language("en", "zh", [("zh", 1.0)]) == "en"
    assert i18n.choose_language("xx", None, []) == i18n.DEFAULT_LANGUAGE


def test_home_page(client: FlaskClient) -> None:
    tree = page(client, "/")
    body = "".join(tree.itertext())
    assert "DCDR KG (test data)" in body and "test-1" in body
    meta = fx.fixture_graphs()
    facts_count = len(meta[fx.graph_iri("facts")])
    assert str(facts_count) in texts(tree, "td")
    links = [a.get("href") for a in tree.iter(NS + "a")]
    for href in ("/class/Agency", "/class/Platform", "/dumps/dcdr.nq", "/sparql", "/id/dataset"):
        assert href in links
    # Metric tree: visits is nested under usage.
    usage = next(
        li
        for li in tree.iter(NS + "li")
        if li.find(NS + "a") is not None and li.find(NS + "a").get("href") == "/id/metric/usage"
    )
    nested = [a.get("href") for a in usage.iter(NS + "a")]
    assert "/id/metric/visits" in nested
    assert "/id/sentence/p4-s4-03" in links


def test_class_page_lists_members(client: FlaskClient) -> None:
    tree = page(client, "/class/Platform")
    links = [a.get("href") for a in tree.iter(NS + "a")]
    assert "/id/platform/china-judgements-online" in links
    assert "/id/platform/china-court-trial-online" in links
    assert client.get("/class/NoSuchClass", headers=HTML).status_code == 404
    assert client.get("/class/..%2Fetc", headers=HTML).status_code == 404


def test_dumps_are_served_and_nothing_else(client: FlaskClient, pages_app: Flask) -> None:
    response = client.get("/dumps/dcdr.nq")
    assert response.status_code == 200
    dist = pages_app.extensions["dcdr"].settings.dist
    assert response.data == (dist / "dcdr.nq").read_bytes()
    for bad in ("/dumps/store", "/dumps/..%2FSHA256SUMS", "/dumps/../pyproject.toml", "/dumps/x"):
        assert client.get(bad).status_code == 404, bad


def test_query_ui_lists_examples_in_both_languages(client: FlaskClient, examples: Path) -> None:
    tree = page(client, "/sparql?lang=zh")
    body = "".join(tree.itertext())
    assert "各平台有哪些数字?" in body and "Which figures does each platform report?" in body
    example_link = next(a for a in tree.iter(NS + "a") if "example" in (a.get("class") or ""))
    assert "query=" in example_link.get("href")


def test_query_ui_runs_a_select_and_links_iris(client: FlaskClient, examples: Path) -> None:
    url = "/sparql?" + urlencode({"query": EXAMPLE})
    tree = page(client, url)
    cells = [a.get("href") for a in tree.find(f".//{NS}table").iter(NS + "a")]
    assert "/id/platform/china-judgements-online" in cells
    assert "/id/agency/hangzhou-internet-court" in cells
    # The query stays in the form, so the page's address can be shared.
    assert texts(tree, "textarea") == [EXAMPLE]
    downloads = {
        a.get("data-format"): a.get("href") for a in tree.iter(NS + "a") if a.get("data-format")
    }
    assert set(downloads) == {"csv", "tsv", "json", "xml"}
    csv_answer = client.get(downloads["csv"], headers=HTML)
    assert csv_answer.status_code == 200
    assert "attachment" in csv_answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(csv_answer.get_data(as_text=True))))
    assert rows[0] == ["platform", "value"]
    assert [row[1] for row in rows[1:]] == ["11000", "110000000", "31900000000", "53000000000"]
    json_answer = client.get(downloads["json"], headers=HTML)
    assert len(json.loads(json_answer.data)["results"]["bindings"]) == 4


def test_query_ui_shows_a_graph_and_offers_rdf_downloads(client: FlaskClient) -> None:
    query = (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s rdfs:label ?l FILTER(lang(?l) = 'zh') }"
    )
    tree = page(client, "/sparql?" + urlencode({"query": query}))
    downloads = {
        a.get("data-format"): a.get("href") for a in tree.iter(NS + "a") if a.get("data-format")
    }
    assert set(downloads) == {"ttl", "nt", "jsonld", "rdf"}
    turtle = client.get(downloads["ttl"], headers=HTML)
    got = Graph().parse(data=turtle.data, format="turtle")
    expected = Graph()
    for s, p, o in fx.union_graph().triples((None, RDFS.label, None)):
        if isinstance(o, Literal) and o.language == "zh":
            expected.add((s, p, o))
    assert isomorphic(got, expected)


def test_query_ui_reports_syntax_errors_with_position(client: FlaskClient) -> None:
    response = client.get(
        "/sparql?" + urlencode({"query": "SELECT * WHERE {\n  ?s ?p \n}"}), headers=HTML
    )
    assert response.status_code == 400
    tree = html5lib.parse(response.data)
    position = texts(tree, "p")
    assert any("line 3" in text for text in position)
    assert texts(tree, "pre")[0].startswith("}")


def test_query_ui_without_query_is_an_empty_editor(client: FlaskClient) -> None:
    tree = page(client, "/sparql")
    assert texts(tree, "textarea") == [""]
    assert not list(tree.iter(NS + "table"))


def test_service_description_link_works_from_a_browser(client: FlaskClient) -> None:
    response = client.get("/sparql?format=ttl", headers=HTML)
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    described = Graph().parse(data=response.data, format="turtle")
    assert (None, RDF.type, SD.Service) in described


def test_class_list_shows_both_labels(client: FlaskClient) -> None:
    tree = page(client, "/class/Agency?lang=en")
    others = texts(tree, "span")
    assert "最高人民法院" in others


def test_home_class_list_shows_both_labels(client: FlaskClient) -> None:
    tree = page(client, "/?lang=zh")
    items = [text for text in texts(tree, "li") if "机构" in text]
    assert any("agency" in text.lower() for text in items)

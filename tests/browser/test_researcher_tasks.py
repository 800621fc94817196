"""The ten tasks a researcher of digital government brings (issue 17), each carried through to
its answer in a real browser, at a desktop width and at a phone width.

Runs against `python -m server.front.serving` on the REAL graph (the session's server and
chromium, tests/browser/conftest.py). Each test fails when its feature is broken: it reads the
answer off the page, not only that a page loaded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Locator, Page

from tests.browser.test_browser import Server, shoot

pytestmark = [pytest.mark.browser]

WIDTHS = (1280, 390)
PLATFORM = "/id/platform/china-judgements-online"
VISITS = "/id/observation/china-judgements-online-visits-2020"


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def tab(request: pytest.FixtureRequest, session_browser: Browser) -> Iterator[Page]:
    context = session_browser.new_context(
        viewport={"width": request.param, "height": 900}, locale="en-US", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def fits(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    screen = page.evaluate("innerWidth")
    assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen"


def width_of(page: Page) -> int:
    return int(page.evaluate("innerWidth"))


def bar_names(chart: Locator) -> list[str]:
    """What each bar of a chart is about (its SVG title reads "name: value")."""
    titles = chart.locator("g.bar title").evaluate_all("ts => ts.map(t => t.textContent)")
    return sorted(str(title).rsplit(":", 1)[0] for title in titles)


def search_from_header(page: Page, site: Server, text: str) -> None:
    page.goto(site.url + "/search?lang=en")
    page.fill("header.site form.search input[name=q]", text)
    page.click("header.site form.search button[type=submit]")
    page.wait_for_url("**/search?**")


# (1) everything about 中国裁判文书网 ---------------------------------------------------------


def test_1_everything_about_china_judgements_online(tab: Page, site: Server) -> None:
    search_from_header(tab, site, "中国裁判文书网")
    first = tab.locator("ol.hits li a").first
    assert first.get_attribute("href") == PLATFORM
    fits(tab)
    first.click()
    tab.wait_for_url(f"**{PLATFORM}*")
    assert "China Judgements Online" in tab.locator("h1").inner_text()
    figures = tab.locator("table.figures tbody tr")
    stated = set(tab.locator("table.figures td.stated a").all_inner_texts())
    assert figures.count() >= 2 and {"1.1亿份", "530亿人次"} <= stated
    # Where the report says it: the figures' sentence, with the figure marked.
    assert "中国裁判文书网" in tab.locator("table.figures q.source").first.inner_text()
    fits(tab)
    shoot(tab, f"task1-platform-{width_of(tab)}")


# (2) the figures per province ---------------------------------------------------------------


def test_2_figures_about_provinces(tab: Page, site: Server) -> None:
    tab.goto(site.url + "/figures?lang=en")
    tab.fill("form.figure-filters input[name=q]", "省")
    tab.click("form.figure-filters button[type=submit]")
    tab.wait_for_url("**q=**")
    rows = tab.locator("table.figures-all tbody tr")
    assert rows.count() > 0
    sentences = tab.locator("table.figures-all td.source q").all_inner_texts()
    assert sentences and all("省" in sentence for sentence in sentences)
    abouts = tab.locator("table.figures-all td.name a[href^='/id/agency/']").all_inner_texts()
    assert "provincial-level governments" in abouts
    fits(tab)
    shoot(tab, f"task2-provinces-{width_of(tab)}")


# (3) every figure on online government services, with its date -----------------------------


def test_3_online_government_services_figures_with_dates(tab: Page, site: Server) -> None:
    tab.goto(site.url + "/figures?lang=en")
    tab.select_option("select[name=section]", label="Online government services keep improving")
    tab.click("form.figure-filters button[type=submit]")
    tab.wait_for_url("**section=**")
    total = tab.locator("table.figures-all tbody tr").count()
    assert total > 0
    dates = tab.locator("table.figures-all td.date span").all_inner_texts()
    assert len(dates) == total
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()) for date in dates), dates
    sections = set(
        tab.locator("table.figures-all td.name a[href^='/id/section/']").all_inner_texts()
    )
    assert sections == {"Online government services keep improving"}
    fits(tab)


# (4) compare the court platforms' visits -----------------------------------------------------


def test_4_compare_court_platform_visits(tab: Page, site: Server) -> None:
    tab.goto(site.url + VISITS + "?lang=en")
    tab.locator("table.figures td a[href^='/id/metric/']").first.click()
    tab.wait_for_url("**/id/metric/**")
    charts = tab.locator("figure.chart")
    assert charts.count() >= 1
    names = bar_names(charts.first)
    assert names == ["China Court Trial Online", "China Judgements Online"]
    widths = [float(w) for w in charts.first.locator("rect").evaluate_all(
        "rects => rects.map(r => r.getAttribute('width'))")]  # fmt: skip
    assert max(widths) > 0 and min(widths) / max(widths) == pytest.approx(319 / 530, rel=0.01)
    fits(tab)

    # The broader metric shows narrower metrics too, but never two metrics in one chart.
    tab.goto(site.url + "/id/metric/visits?lang=en")
    assert tab.locator(f"table.figures td.stated a[href='{VISITS}']").count() == 1
    for index in range(tab.locator("figure.chart").count()):
        chart = tab.locator("figure.chart").nth(index)
        bars = bar_names(chart)
        if "China Judgements Online" in bars:
            assert bars == names
    fits(tab)
    shoot(tab, f"task4-visits-{width_of(tab)}")


# (5) the documents cited ----------------------------------------------------------------------


def test_5_documents_cited(tab: Page, site: Server) -> None:
    tab.goto(site.url + "/?lang=en")
    tab.locator("section.classes a[href='/class/Document']").click()
    tab.wait_for_url("**/class/Document*")
    members = tab.locator("ul.members li > a")
    count = members.count()
    assert count >= 3
    # Both labels: the Chinese title of each document beside the English one.
    assert tab.locator("ul.members li span.other-label").count() == count
    fits(tab)
    hrefs = [members.nth(i).get_attribute("href") or "" for i in range(count)]
    # The documents the report cites; the report itself is a document too, and cites nothing.
    cited = [href for href in hrefs if href.startswith("/id/document/")]
    assert len(cited) >= 2 and "/id/document/government-work-report" in cited
    for href in cited:
        tab.goto(site.url + href + "?lang=en")
        sources = tab.locator("a[href^='/id/sentence/']")
        assert sources.count() >= 1, f"{href} names no sentence that cites it"
        fits(tab)


# (6) export all figures to a spreadsheet ------------------------------------------------------


def test_6_export_all_figures(tab: Page, site: Server, tmp_path: Path) -> None:
    tab.goto(site.url + "/figures?lang=en")
    shown = {
        href for href in tab.locator("table.figures-all a.figure").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
    }  # fmt: skip
    assert len(shown) > 50
    with tab.expect_download() as waiting:
        tab.click("a.download[data-format=csv]")
    target = tmp_path / "figures.csv"
    waiting.value.save_as(target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark: spreadsheets garble Chinese"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {row["observation"].replace("https://w3id.org/dcdr", "") for row in rows} == shown
    judged = next(row for row in rows if row["observation"].endswith(VISITS))
    assert (judged["stated_as"], judged["value"]) == ("530亿人次", "53000000000")

    with tab.expect_download() as waiting:
        tab.click("a.download[data-format=xlsx]")
    book_path = tmp_path / "figures.xlsx"
    waiting.value.save_as(book_path)
    sheet = openpyxl.load_workbook(book_path, read_only=True).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][0] == "observation" and len(table) - 1 == len(shown)
    fits(tab)


# (7) cite a figure ----------------------------------------------------------------------------


def test_7_cite_a_figure(tab: Page, site: Server, tmp_path: Path) -> None:
    tab.goto(site.url + VISITS + "?lang=en")
    assert "530" in tab.locator("h1").inner_text()
    block = tab.locator("section.cite")
    assert "https://w3id.org/dcdr" + VISITS in block.locator("p.cite-text").inner_text()
    with tab.expect_download() as waiting:
        block.locator("a[data-format=bibtex]").click()
    target = tmp_path / "cite.bib"
    waiting.value.save_as(target)
    bibtex = target.read_text(encoding="utf-8")
    assert re.match(r"@\w+\{[^,]+,", bibtex), bibtex[:200]
    assert "https://w3id.org/dcdr" + VISITS in bibtex
    assert "2021" in bibtex  # the report's release (dcterms:issued 2021-04-25)
    fits(tab)
    shoot(tab, f"task7-cite-{width_of(tab)}")


# (8) search in Chinese and in English ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first_href"),
    [
        ("裁判文書網", PLATFORM),  # traditional characters, folded to simplified
        ("judgement", PLATFORM),
        ("judgment", PLATFORM),  # American spelling; the name says "Judgements"
        ("发改委", "/id/agency/ndrc"),  # a short form of the background graph
        ("最高法", "/id/agency/supreme-peoples-court"),
    ],
)
def test_8_search_finds_names(tab: Page, site: Server, text: str, first_href: str) -> None:
    search_from_header(tab, site, text)
    assert tab.locator("ol.hits li a").first.get_attribute("href") == first_href
    fits(tab)


@pytest.mark.parametrize("word", ["执行", "不动产", "满意度"])
def test_8_search_finds_sentences(tab: Page, site: Server, word: str) -> None:
    search_from_header(tab, site, word)
    hits = tab.locator("li.sentence-hit")
    assert hits.count() >= 1
    assert tab.locator("li.sentence-hit mark").first.inner_text() == word
    link = hits.first.locator("a.sentence-link")
    link.click()
    tab.wait_for_url("**/id/sentence/**")
    assert word in tab.locator("main").inner_text()
    fits(tab)


def test_8_sentence_hit_leads_to_its_figures(tab: Page, site: Server) -> None:
    search_from_header(tab, site, "裁判文書網")
    figures = tab.locator("li.sentence-hit ul.sentence-figures a.figure")
    labels = figures.all_inner_texts()
    assert any("530" in label for label in labels), labels
    fits(tab)
    shoot(tab, f"task8-search-{width_of(tab)}")
    figures.filter(has_text="530").first.click()
    tab.wait_for_url("**/id/observation/**")
    assert "530" in tab.locator("h1").inner_text()


def test_8_no_hit_says_whether_the_words_occur(tab: Page, site: Server) -> None:
    search_from_header(tab, site, "量子计算")
    assert "does not occur in the report" in tab.locator("div.absent").inner_text()
    fits(tab)


# (9) write a query: the plain form, which works without JavaScript ---------------------------


def test_9_run_an_example_query_without_javascript(
    session_browser: Browser, site: Server, tab: Page
) -> None:
    width = width_of(tab)
    context = session_browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 900}, locale="en-US"
    )
    page = context.new_page()
    try:
        page.goto(site.url + "/sparql?lang=en")
        page.locator("a.example[data-name=court-figures]").click()
        page.wait_for_load_state()
        if page.locator("table.results").count() == 0:
            # The example only filled the form: run it as a user would.
            assert "court" in page.locator("#query").input_value().lower()
            page.click("#run-query")
            page.wait_for_load_state()
        rows = page.locator("table.results tbody tr")
        assert rows.count() > 0
        assert page.locator("table.results a[href^='/id/']").count() > 0
    finally:
        context.close()


# (10) use a phone: no page of tasks 1-8 is wider than the screen ------------------------------

PHONE_PAGES = [
    "/",
    "/search?q=中国裁判文书网",
    "/search?q=执行",
    PLATFORM,
    "/figures",
    "/figures?q=省",
    "/id/metric/cumulative-visits",
    "/id/metric/visits",
    "/class/Document",
    VISITS,
    "/cite?iri=https://w3id.org/dcdr" + VISITS,
    "/report",
    "/id/sentence/p4-s4-07",
    "/id/section/p4-s2",
]


def test_10_phone_pages_fit(session_browser: Browser, site: Server) -> None:
    context = session_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        # In Chinese: the tasks above already check each of their pages at 390 px in English.
        for path in PHONE_PAGES:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{site.url}{path}{joiner}lang=zh")
            fits(page)
    finally:
        context.close()

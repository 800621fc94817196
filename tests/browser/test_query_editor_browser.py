"""The query page in a real browser at a desktop and a phone width, on the REAL graph: YASGUI
runs an example and shows its rows with no request leaving 127.0.0.1; errors read in words at
their line and column; the chart refuses figures of mixed units; without JavaScript the plain
form shows its answers and errors right under it.

Uses tests/browser/test_browser.py's server and screenshot helpers. YASGUI must have been
installed by `make editor` (which `make test` runs): in CI its absence fails these tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from server.pages.query_editor import BUILD_DIR, editor_available
from tests.browser.test_browser import SCREENSHOTS, Server, shoot

pytestmark = [pytest.mark.browser]

WIDTHS = (1280, 390)
# Figures of three units (份, 人次, 件 …): a chart of them would compare unlike things.
MIXED_UNITS = "SELECT ?obs ?value WHERE { ?obs a dcdr:Observation ; dcdr:value ?value } LIMIT 30"
# One unit (条), two measure types (stocks and flows): not comparable either.
ENTRIES_STOCK_AND_FLOW = (
    "SELECT ?obs ?value WHERE { ?obs dcdr:unit <https://w3id.org/dcdr/id/unit/entry> ; "
    "dcdr:value ?value }"
)
# Shares in percent: one unit and one measure type, so a chart.
SHARES = "SELECT ?obs ?value WHERE { ?obs dcdr:unit unit:PERCENT ; dcdr:value ?value }"
UNKNOWN_PREFIX = "SELECT ?s WHERE {\n  ?s a dcdr:Agency ;\n     ex:name ?n }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, real_dist: Path) -> Iterator[Server]:
    if not editor_available(BUILD_DIR):
        message = "YASGUI is not installed: run `make editor` (npm ci in server/pages/editor)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    running = Server(real_dist, tmp_path_factory.mktemp("editor") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chromium(session_browser: Browser) -> Browser:
    """The session's one chromium (tests/browser/conftest.py): Playwright's sync API runs one
    driver per thread, so a second `sync_playwright()` in the same session fails."""
    return session_browser


class Recorded:
    """A browser context that notes the address of every request any of its pages makes."""

    def __init__(self, chromium: Browser, width: int, javascript: bool = True) -> None:
        self.context: BrowserContext = chromium.new_context(
            viewport={"width": width, "height": 900},
            locale="en-US",
            java_script_enabled=javascript,
        )
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)

    def outside(self) -> list[str]:
        """Requests to any host but 127.0.0.1 (data: and blob: URLs stay in the page)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname != "127.0.0.1"
        ]


def assert_fits(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    screen = page.evaluate("innerWidth")
    assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen"


def shoot_at(page: Page, selector: str, name: str) -> None:
    """The screen as a reader sees it with `selector` scrolled into view (a full page of 31
    examples is too tall to look at)."""
    page.locator(selector).first.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-view.png"))


def run_in_editor(page: Page, query: str) -> None:
    page.evaluate(
        "query => { const tab = window.dcdrEditor.getTab(); tab.getYasqe().setValue(query);"
        " tab.query(); }",
        query,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_yasgui_runs_an_example_with_every_request_on_127_0_0_1(
    chromium: Browser, server: Server, width: int
) -> None:
    tab = Recorded(chromium, width)
    page = tab.page
    page.goto(server.url + "/sparql?lang=en")
    page.locator(".yasgui .yasqe .CodeMirror").wait_for()
    assert page.locator("#plain-query").is_hidden()
    example = page.locator("nav.examples a.example").first
    title = example.inner_text().strip()
    example.click()
    rows = page.locator("#editor .server-view table.results tbody tr")
    rows.first.wait_for()
    assert page.locator(".yasgui .tabsList .tab.active").inner_text().startswith(title)
    assert rows.count() > 0
    # A moment for anything the editor might still fetch (fonts, prefixes, vocabularies).
    page.wait_for_timeout(1000)
    shoot(page, f"query-editor-example-{width}")
    shoot_at(page, "#editor .server-view", f"query-editor-example-{width}")
    assert_fits(page)
    assert tab.outside() == [], tab.outside()
    assert any(url.endswith("/assets/editor/yasgui.min.js") for url in tab.requests)
    tab.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_yasgui_error_in_words_at_line_and_column(
    chromium: Browser, server: Server, width: int
) -> None:
    tab = Recorded(chromium, width)
    page = tab.page
    page.goto(server.url + "/sparql?lang=en")
    page.locator(".yasgui .yasqe .CodeMirror").wait_for()
    # YASQE's own check knows the default prefixes, and marks the unknown one only.
    run_in_editor(page, "SELECT ?a WHERE { ?a a dcdr:Agency ; rdfs:label ?l }")
    page.locator("#editor .server-view table.results").wait_for()
    assert page.locator(".yasqe .parseErrorIcon").count() == 0
    run_in_editor(page, UNKNOWN_PREFIX)
    page.locator(".yasqe .parseErrorIcon").wait_for()
    error = page.locator("#editor .server-view .query-error")
    error.wait_for()
    assert (
        "line 3, column 6: prefix ex: is not declared; add PREFIX ex: <…>"
        in error.locator(".message").inner_text()
    )
    assert error.locator("pre.excerpt").inner_text() == "     ex:name ?n }\n     ^"
    shoot(page, f"query-editor-error-{width}")
    shoot_at(page, "#editor .yasqe", f"query-editor-error-{width}")
    assert tab.outside() == [], tab.outside()
    tab.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_refuses_figures_of_mixed_units(
    chromium: Browser, server: Server, width: int
) -> None:
    tab = Recorded(chromium, width)
    page = tab.page
    # A shared link: the query in the address opens in the editor and runs.
    page.goto(f"{server.url}/sparql?lang=en&query={quote(MIXED_UNITS)}")
    page.locator(".yasgui .yasqe .CodeMirror").wait_for()
    assert page.evaluate("() => window.dcdrEditor.getTab().getYasqe().getValue()") == MIXED_UNITS
    refusal = page.locator("#editor .server-view .chart-refused")
    refusal.wait_for()
    assert "more than one unit" in refusal.inner_text()
    assert page.locator("#editor .server-view figure.chart").count() == 0
    assert page.locator("#editor .server-view table.results tbody tr").count() == 30
    shoot_at(page, "#editor .server-view", f"query-editor-chart-refused-{width}")
    run_in_editor(page, ENTRIES_STOCK_AND_FLOW)
    page.locator("#editor .server-view .chart-refused:has-text('(flow, stock)')").wait_for()
    run_in_editor(page, SHARES)
    bars = page.locator("#editor .server-view figure.chart svg g.bar")
    bars.first.wait_for()
    assert bars.count() == page.locator("#editor .server-view table.results tbody tr").count() > 1
    shoot_at(page, "#editor .server-view figure.chart", f"query-editor-chart-{width}")
    assert_fits(page)
    tab.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_plain_form_without_javascript_answers_right_under_it(
    chromium: Browser, server: Server, width: int
) -> None:
    tab = Recorded(chromium, width, javascript=False)
    page = tab.page
    page.goto(server.url + "/sparql?lang=en")
    assert page.locator("#plain-query").is_visible()
    page.fill("#query", "SELECT ?agency WHERE { ?agency a dcdr:Agency } LIMIT 5")
    page.click("#run-query")
    page.wait_for_load_state()
    assert page.locator("table.results tbody tr").count() == 5
    form = page.locator("form.query").bounding_box()
    results = page.locator("section.results").bounding_box()
    assert form is not None and results is not None
    gap = results["y"] - (form["y"] + form["height"])
    assert 0 <= gap < 100, f"results start {gap} px below the form"
    shoot(page, f"query-plain-results-{width}")
    shoot_at(page, "form.query", f"query-plain-results-{width}")
    assert_fits(page)

    page.goto(f"{server.url}/sparql?lang=en&query={quote(UNKNOWN_PREFIX)}")
    form = page.locator("form.query").bounding_box()
    error = page.locator("section.query-error").bounding_box()
    assert form is not None and error is not None
    assert 0 <= error["y"] - (form["y"] + form["height"]) < 100
    assert (
        "line 3, column 6: prefix ex: is not declared" in page.locator(".query-error").inner_text()
    )
    shoot(page, f"query-plain-error-{width}")
    shoot_at(page, "form.query", f"query-plain-error-{width}")
    tab.context.close()

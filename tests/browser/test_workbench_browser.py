"""The workbench pages (/figures, /report, /dumps/) in a real browser, at a desktop width and a
phone width: nothing is wider than the screen, and a figure leads to its observation.

Runs against `python -m server.serving` on the REAL graph, like tests/browser/test_browser.py,
whose server and screenshot helpers it uses.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.test_browser import Server, shoot

pytestmark = [pytest.mark.browser]

WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def server(site: Server) -> Server:
    return site


@pytest.fixture(scope="module")
def chromium(session_browser: Browser) -> Browser:
    return session_browser


def open_tab(chromium: Browser, width: int) -> Page:
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    return tab


def assert_fits(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    screen = page.evaluate("innerWidth")
    assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen"


@pytest.mark.parametrize("width", WIDTHS)
def test_figures_table_fits_and_a_figure_leads_to_its_observation(
    chromium: Browser, server: Server, width: int
) -> None:
    page = open_tab(chromium, width)
    page.goto(server.url + "/figures?lang=en")
    total = page.locator("table.figures-all tbody tr").count()
    assert total > 0
    assert f"{total} of {total}" in page.locator("#figure-count").inner_text()
    assert_fits(page)
    shoot(page, f"figures-{width}")

    page.select_option("select[name=kind]", "agency")
    page.click("form.figure-filters button[type=submit]")
    page.wait_for_url("**kind=agency**")
    filtered = page.locator("table.figures-all tbody tr").count()
    assert 0 < filtered < total
    assert_fits(page)

    link = page.locator("table.figures-all a.figure").first
    stated = link.inner_text().strip()
    link.click()
    page.wait_for_url("**/id/observation/**")
    assert stated in page.locator("h1").inner_text()
    assert_fits(page)
    shoot(page, f"observation-{width}")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_report_fits_and_a_marked_figure_leads_to_its_observation(
    chromium: Browser, server: Server, width: int
) -> None:
    page = open_tab(chromium, width)
    page.goto(server.url + "/report?lang=zh")
    mentions = page.locator("article.report a.figure-mention")
    assert mentions.count() > 0
    assert page.locator("article.report section.report-section").count() == 6
    assert_fits(page)
    shoot(page, f"report-{width}")

    link = mentions.nth(mentions.count() // 2)
    title = link.get_attribute("title") or ""
    link.click()
    page.wait_for_url("**/id/observation/**")
    assert page.locator("h1").inner_text().strip() == title.strip()
    assert_fits(page)
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_dumps_page_fits_and_lists_checksums(chromium: Browser, server: Server, width: int) -> None:
    page = open_tab(chromium, width)
    page.goto(server.url + "/dumps/?lang=en")
    sums = page.locator("table.dumps td.sha").all_inner_texts()
    assert sums and all(len(text.strip()) == 64 for text in sums)
    assert_fits(page)
    shoot(page, f"dumps-{width}")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_home_starts_with_what_to_do_and_fits(
    chromium: Browser, server: Server, width: int
) -> None:
    page = open_tab(chromium, width)
    page.goto(server.url + "/?lang=zh")
    assert page.locator("main ul.start li").count() == 5
    assert_fits(page)
    shoot(page, f"home-start-{width}")
    page.locator("main ul.start a").first.click()
    page.wait_for_url("**/figures")
    assert page.locator("table.figures-all tbody tr").count() > 0
    page.context.close()

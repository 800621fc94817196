"""The pages in a real browser: Debian's chromium driven by Playwright against `dcdr serve`.

The main server runs on the REAL graph (`dist/`, else a fresh `dcdr build`); a second one runs
on the small fixture dataset, whose hostile label must show as text with no script run.
Screenshots go to `artifacts/screenshots/` so a failed run can be looked at.
"""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page

from graph import paths
from tests import pages_fixtures as fx

# Generous: without a built dist/ the first test waits for `dcdr build`.
pytestmark = [pytest.mark.browser]

SCREENSHOTS = paths.PROJECT_ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m server.front.serving` on a loopback port, stopped by its own process id."""

    def __init__(self, dist: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("wb")
        command = [
            sys.executable, "-m", "server.front.serving", "--host", "127.0.0.1",
            "--port", str(self.port), "--dist", str(dist), "--workers", "1", "--threads", "4",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=paths.PROJECT_ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}; see {self.log.name}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server did not answer within 90 s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def real_server(site: Server) -> Server:
    """The session's server on the real graph (tests/browser/conftest.py)."""
    return site


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    scratch = tmp_path_factory.mktemp("fixture")
    server = Server(fx.build_fixture_dist(scratch / "dist"), scratch / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(session_browser: Browser) -> Browser:
    """The session's one chromium (tests/browser/conftest.py)."""
    return session_browser


@pytest.fixture()
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


@pytest.fixture()
def plain_page(browser: Browser) -> Iterator[Page]:
    """A tab with JavaScript off: /sparql's plain form (with it on, YASGUI takes the form's
    place: tests/browser/test_query_editor_browser.py)."""
    context = browser.new_context(accept_downloads=True, locale="en-US", java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_home_search_platform_and_sentence(real_server: Server, page: Page) -> None:
    page.goto(real_server.url + "/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("a[href^='/class/']").count() > 0
    assert page.locator("a[href^='/dumps/']").count() > 0
    shoot(page, "home-en")

    # 中国裁判文书网 is named by the report with two figures (1.1亿份, 530亿人次).
    page.fill("header form.search input[name=q]", "裁判文书")
    page.click("header form.search button")
    page.wait_for_url("**/search?q=*")
    assert page.locator("ol.hits a").count() > 0
    shoot(page, "search-en")

    page.locator("ol.hits a[href^='/id/platform/']").first.click()
    page.wait_for_url("**/id/platform/**")
    figures = page.locator("table.figures tbody tr")
    assert figures.count() > 0
    marks = page.locator("table.figures q.source mark")
    assert marks.count() > 0
    assert marks.first.inner_text().strip()
    shoot(page, "platform-en")

    page.locator("table.figures a.sentence-link").first.click()
    page.wait_for_url("**/id/sentence/**")
    assert page.locator("p.paragraph mark.current").count() == 1
    shoot(page, "sentence-en")


def test_switch_language(real_server: Server, page: Page) -> None:
    page.goto(real_server.url + "/?lang=en")
    page.click("#language-switch a[hreflang=zh]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh"
    assert "首页" in page.locator("header nav").inner_text()
    shoot(page, "home-zh")
    page.goto(real_server.url + "/search?q=法院")
    page.locator("ol.hits a[href^='/id/']").first.click()
    page.wait_for_load_state()
    # The choice is remembered while browsing.
    assert page.locator("html").get_attribute("lang") == "zh"
    shoot(page, "resource-zh")


def test_example_query_result_link_and_csv_download(
    real_server: Server, plain_page: Page, tmp_path: Path
) -> None:
    page = plain_page
    page.goto(real_server.url + "/sparql?lang=en")
    examples = page.locator("nav.examples a.example")
    assert examples.count() > 0, "the query UI offers no example queries"
    hrefs = [examples.nth(i).get_attribute("href") or "" for i in range(examples.count())]
    for href in hrefs:
        page.goto(real_server.url + href)
        if page.locator("table.results a[href^='/id/']").count() > 0:
            break
    else:
        pytest.fail("no example query gave a result linking to a resource page")
    shoot(page, "query-en")
    columns = [
        name.lstrip("?") for name in page.locator("table.results thead th").all_inner_texts()
    ]
    rows = page.locator("table.results tbody tr").count()

    with page.expect_download() as waiting:
        page.click("a.download[data-format=csv]")
    target = tmp_path / "results.csv"
    waiting.value.save_as(target)
    table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert table[0] == columns
    assert len(table) - 1 == rows

    link = page.locator("table.results a[href^='/id/']").first
    link.click()
    page.wait_for_url("**/id/**")
    assert page.locator("h1").inner_text().strip()
    assert page.locator("p.iri code").inner_text().startswith("https://w3id.org/dcdr/id/")


def test_query_error_shows_line_and_column(real_server: Server, plain_page: Page) -> None:
    page = plain_page
    page.goto(real_server.url + "/sparql?lang=en")
    page.fill("#query", "SELECT * WHERE {\n  ?s ?p\n}")
    page.click("#run-query")
    page.wait_for_load_state()
    assert "query=" in page.url
    assert "line 3" in page.locator(".query-error").inner_text()


def test_hostile_label_shows_as_text_and_runs_nothing(fixture_server: Server, page: Page) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    for lang in ("en", "zh"):
        page.goto(f"{fixture_server.url}/id/agency/xss-test?lang={lang}")
        expected = fx.XSS_LABEL if lang == "en" else fx.XSS_LABEL_ZH
        assert page.locator("h1").inner_text() == expected
        assert page.locator("main img, main svg[onload]").count() == 0
        shoot(page, f"xss-{lang}")
    page.goto(f"{fixture_server.url}/search?q=onerror")
    assert page.locator("ol.hits").inner_text().count("alert") >= 1
    page.wait_for_timeout(300)
    assert dialogs == []


def test_pages_work_without_javascript(browser: Browser, real_server: Server) -> None:
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(real_server.url + "/sparql?lang=en")
    tab.fill("#query", "SELECT ?s WHERE { ?s a ?c } LIMIT 3")
    tab.click("#run-query")
    tab.wait_for_load_state()
    assert tab.locator("table.results tbody tr").count() == 3
    context.close()

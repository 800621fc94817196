"""One server on the real graph and one chromium for all the browser tests, shared by the
researcher's tasks (tests/browser/test_researcher_tasks.py) and the other browser modules.

Package scope, not session scope: Playwright's sync API keeps an asyncio loop running in the
main thread while it is open, and the tests after this package call `asyncio.run()`, which
refuses to start inside a running loop (CI once failed 17 of them that way)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.test_browser import CHROMIUM_ARGS, Server


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory, real_dist: Path) -> Iterator[Server]:
    running = Server(real_dist, tmp_path_factory.mktemp("site") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="package")
def session_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()

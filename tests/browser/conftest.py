"""One server on the real graph and one chromium for the whole browser session, shared by the
researcher's tasks (tests/browser/test_researcher_tasks.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.test_browser import CHROMIUM_ARGS, Server


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, real_dist: Path) -> Iterator[Server]:
    running = Server(real_dist, tmp_path_factory.mktemp("site") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def session_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()

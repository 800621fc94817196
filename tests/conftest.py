"""Shared fixtures: the mini fixture project (copied per test), a built copy shared by the read-only
tests, and a helper that runs `dcdr` in a subprocess against a chosen project and dist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph.paths import Project

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "fixtures" / "mini"


def copy_mini(target: Path) -> Project:
    """A fresh copy of the mini project, with the real generic text checks (not the fact
    checks, which are about the real report's facts)."""
    shutil.copytree(MINI, target)
    checks = target / "queries" / "checks"
    checks.mkdir(parents=True, exist_ok=True)
    for check in sorted((ROOT / "queries" / "checks").glob("text-*.rq")):
        shutil.copy(check, checks / check.name)
    return Project(root=target, dist=target / "dist")


def run_dcdr(
    args: list[str],
    project: Project,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`dcdr ARGS` in a subprocess, with DCDR_ROOT / DCDR_DIST pointing at `project`."""
    env = dict(os.environ)
    env.update(
        {
            "DCDR_ROOT": str(project.root),
            "DCDR_DIST": str(project.dist),
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def mini(tmp_path: Path) -> Project:
    return copy_mini(tmp_path / "mini")


@pytest.fixture(scope="session")
def built_mini(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The mini project, built once; tests that use it must not change it."""
    from graph.build import build

    project = copy_mini(tmp_path_factory.mktemp("built") / "mini")
    build(project)
    return project


@pytest.fixture(scope="session")
def real_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real graph, built from the current sources once per test session (never a stale
    `dist/` left over from an earlier run)."""
    from graph.build import build

    project = Project(root=ROOT, dist=tmp_path_factory.mktemp("real") / "dist")
    build(project)
    return project.dist.resolve()


@pytest.fixture(scope="session")
def pages_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The real app over the small page-test dataset (tests/pages_fixtures.py), shared by the
    page, search, dereference and escaping tests, which only read from it."""
    from tests import pages_fixtures as fx

    application = fx.make_app(fx.build_fixture_dist(tmp_path_factory.mktemp("pages") / "dist"))
    yield application
    fx.close_app(application)


@pytest.fixture()
def client(pages_app: Flask) -> FlaskClient:
    return pages_app.test_client()


@pytest.fixture(scope="session")
def workbench_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app over the page-test dataset plus the time, measure-type and citation statements
    and the figures tables of a build (tests/workbench_fixtures.py): the workbench pages' tests."""
    from tests import workbench_fixtures as wb

    yield from wb.running_app(tmp_path_factory)

"""The query page at /sparql (server/pages/query_editor.py, query_chart.py, query.html): YASGUI
from the app's own origin when `make editor` installed it, the plain form when not; answers and
errors right under the form; labels beside IRIs; a chart that refuses figures of mixed units."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph import paths
from graph.namespaces import QUERY_PREFIXES
from server.pages.query_editor import BUILD_DIR, editor_available
from tests import pages_fixtures as fx

HTML = {"Accept": "text/html"}
VISITS = (
    "SELECT ?obs ?about ?value WHERE { ?obs dcdr:about ?about ; dcdr:value ?value ; "
    f"dcdr:unit <{fx.UNIT_VISIT}> }}"
)
ALL_FIGURES = "SELECT ?obs ?value WHERE { ?obs a dcdr:Observation ; dcdr:value ?value }"


def _installed() -> None:
    if not editor_available(BUILD_DIR):
        message = "YASGUI is not installed: run `make editor` (npm ci in server/pages/editor)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture()
def without_npm_folder(pages_app: Flask, tmp_path: Path) -> Iterator[FlaskClient]:
    """The app as on a machine where `make editor` found no npm (an empty folder instead)."""
    pages_app.config["DCDR_EDITOR_DIR"] = str(tmp_path)
    try:
        yield pages_app.test_client()
    finally:
        del pages_app.config["DCDR_EDITOR_DIR"]


def _page(client: FlaskClient, **args: str) -> str:
    response = client.get("/sparql", query_string={"lang": "en", **args}, headers=HTML)
    return response.get_data(as_text=True)


def test_the_page_configures_yasgui_with_this_endpoint_and_the_examples(
    client: FlaskClient,
) -> None:
    _installed()
    page = _page(client)
    holder = re.search(r"<div id=\"editor\" class=\"editor\" data-config='([^']*)'", page)
    assert holder is not None
    config = json.loads(html.unescape(holder.group(1)))
    names = sorted(path.stem for path in paths.EXAMPLES_DIR.glob("*.rq"))
    assert (config["endpoint"], [ex["name"] for ex in config["examples"]]) == ("/sparql", names)
    assert config["prefixes"] == QUERY_PREFIXES
    assert '<script src="/assets/editor/yasgui.min.js" defer></script>' in page


def test_editor_files_come_from_the_apps_own_origin(client: FlaskClient) -> None:
    _installed()
    script = client.get("/assets/editor/yasgui.min.js")
    style = client.get("/assets/editor/yasgui.min.css")
    assert (script.status_code, script.mimetype, style.status_code, style.mimetype) == (
        200,
        "text/javascript",
        200,
        "text/css",
    )


def test_nothing_else_of_the_npm_folder_is_served(client: FlaskClient) -> None:
    assert client.get("/assets/editor/yasgui.esm.js").status_code == 404


def test_prefixes_for_completion_are_the_default_prefixes(client: FlaskClient) -> None:
    assert client.get("/assets/editor/prefixes.json").get_json() == QUERY_PREFIXES


def test_without_the_npm_folder_the_plain_form_is_served(
    without_npm_folder: FlaskClient,
) -> None:
    page = _page(without_npm_folder, query=VISITS)
    assert ('id="editor"' in page, 'textarea id="query"' in page) == (False, True)
    assert '<table class="results">' in page
    assert without_npm_folder.get("/assets/editor/yasgui.min.js").status_code == 404


def test_results_come_right_under_the_form_before_the_examples(client: FlaskClient) -> None:
    page = _page(client, query=VISITS)
    assert (
        page.index("</form>")
        < page.index('<section class="results">')
        < page.index('nav class="examples"')
    )


def test_errors_come_right_under_the_form_before_the_examples(client: FlaskClient) -> None:
    page = _page(client, query="SELECT * WHERE {\n  ?s ex:p ?o }")
    assert (
        page.index("</form>")
        < page.index('class="query-error"')
        < page.index('nav class="examples"')
    )
    assert "line 2, column 6: prefix ex: is not declared" in page


def test_labels_stand_beside_iris(client: FlaskClient) -> None:
    page = _page(client, query=VISITS)
    beside = re.findall(r'<span class="label-beside">([^<]*)</span>', page)
    assert {"China Judgements Online", "China Court Trial Online"} <= set(beside), beside


def test_figures_of_one_unit_are_charted(client: FlaskClient) -> None:
    page = _page(client, query=VISITS)
    assert page.count('<g class="bar">') == 2 and "chart-refused" not in page


def test_bars_are_named_by_the_labelled_column(client: FlaskClient) -> None:
    """?obs has no labels, ?about has: the bars say what each figure is about."""
    page = _page(client, query=VISITS)
    bars = re.findall(r'<g class="bar">\s*<title>([^<:]*):', page)
    assert sorted(bars) == ["China Court Trial Online", "China Judgements Online"]


def test_figures_of_mixed_units_are_not_charted_and_the_page_says_why(
    client: FlaskClient,
) -> None:
    page = _page(client, query=ALL_FIGURES)
    refusal = re.search(r'<p class="chart-refused" role="note">([^<]*)</p>', page)
    assert refusal is not None and '<g class="bar">' not in page
    assert "more than one unit (cases, documents, visits)" in refusal.group(1)


def test_results_view_for_the_editor_is_a_fragment(client: FlaskClient) -> None:
    fragment = _page(client, query=VISITS, view="results")
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment

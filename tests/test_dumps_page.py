"""`/dumps/`: a page listing the build's files with sizes and SHA-256 sums (JSON on request)."""

from __future__ import annotations

import hashlib

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.pages.dumps_page import DUMP_FILES, human_size

NS = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture()
def client(workbench_app: Flask) -> FlaskClient:
    return workbench_app.test_client()


def test_page_lists_every_file_with_its_size_and_sum(
    client: FlaskClient, workbench_app: Flask
) -> None:
    response = client.get("/dumps/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    tree = html5lib.parse(response.data, namespaceHTMLElements=True)
    rows = {}
    for tr in tree.iter(NS + "tr"):
        cells = ["".join(td.itertext()).strip() for td in tr.iter(NS + "td")]
        if cells:
            rows[cells[0]] = cells
    dist = workbench_app.extensions["dcdr"].settings.dist
    tables = {"figures.csv", "figures-zh.csv"}
    assert set(rows) == set(DUMP_FILES) | tables | {f"{name}-metadata.json" for name in tables}
    for name, cells in rows.items():
        data = (dist / name).read_bytes()
        assert cells[1] == human_size(len(data))
        assert cells[3] == hashlib.sha256(data).hexdigest()


def test_json_for_clients_that_ask(client: FlaskClient, workbench_app: Flask) -> None:
    response = client.get("/dumps/", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    files = {item["name"]: item for item in response.get_json()["files"]}
    dist = workbench_app.extensions["dcdr"].settings.dist
    nq = (dist / "dcdr.nq").read_bytes()
    assert files["dcdr.nq"]["sha256"] == hashlib.sha256(nq).hexdigest()
    assert files["dcdr.nq"]["bytes"] == len(nq)
    assert client.get(files["dcdr.nq"]["href"]).data == nq
    table = (dist / "figures-zh.csv").read_bytes()
    assert files["figures-zh.csv"]["sha256"] == hashlib.sha256(table).hexdigest()
    assert client.get(files["figures-zh.csv"]["href"]).data == table
    assert client.get("/dumps/?format=json", headers={"Accept": "text/html"}).is_json


def test_bad_format_is_400_and_the_bare_path_redirects(client: FlaskClient) -> None:
    response = client.get("/dumps/?format=xml", headers={"Accept": "application/json"})
    assert response.status_code == 400 and "format" in response.get_json()["message"]
    assert client.get("/dumps").status_code == 308


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 B"), (378, "378 B"), (47221, "46.1 KiB"), (1432045, "1.4 MiB")]
)
def test_human_size(size: int, shown: str) -> None:
    assert human_size(size) == shown

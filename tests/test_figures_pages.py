"""`/figures`: the table of every observation, its filters and sort order, and its files."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from graph.figures_table import NAMES as COLUMNS
from server.pages import figures_files
from tests import pages_fixtures as fx
from tests.workbench_fixtures import parse_page as tree

HTML = {"Accept": "text/html"}
NS = "{http://www.w3.org/1999/xhtml}"
ALL = {
    str(fx.OBS_DOCS),
    str(fx.OBS_JUDGEMENT_VISITS),
    str(fx.OBS_TRIAL_VISITS),
    str(fx.OBS_CASES),
}


@pytest.fixture()
def client(workbench_app: Flask) -> FlaskClient:
    return workbench_app.test_client()


def figure_links(page: Any) -> list[str]:
    return [a.get("href") for a in page.iter(NS + "a") if a.get("class") == "figure"]


def rows_json(client: FlaskClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get("/figures?format=json" + ("&" + query if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    rows: list[dict[str, Any]] = response.get_json()["rows"]
    return rows


def test_table_links_every_figure_to_its_observation(client: FlaskClient) -> None:
    page = tree(client, "/figures?lang=en")
    assert sorted(figure_links(page)) == sorted("/id/" + iri.split("/id/", 1)[1] for iri in ALL)
    body = "".join(page.itertext())
    for text in ("53,000,000,000", "more than", "Hangzhou Internet Court", "stock", "flow"):
        assert text in body
    marks = ["".join(m.itertext()) for m in page.iter(NS + "mark")]
    assert "319亿人次" in marks and "1.1万余件" in marks


def test_table_speaks_the_page_language(client: FlaskClient) -> None:
    body = "".join(tree(client, "/figures?lang=zh").itertext())
    assert "全部数据" in body and "杭州互联网法院" in body and "上下文所述" in body
    assert "Hangzhou Internet Court" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("section=p4-s4", ALL),
        ("metric=visits", {str(fx.OBS_JUDGEMENT_VISITS), str(fx.OBS_TRIAL_VISITS)}),
        # usage is broader than visits and documents: the tree's branch is filtered.
        ("metric=usage", ALL - {str(fx.OBS_CASES)}),
        ("kind=agency", {str(fx.OBS_CASES)}),
        ("kind=platform", ALL - {str(fx.OBS_CASES)}),
        ("measure=Flow", {str(fx.OBS_CASES)}),
        ("measure=Share", set()),
        ("basis=statedInContext", {str(fx.OBS_CASES)}),
        ("q=杭州", {str(fx.OBS_CASES)}),
        ("q=JUDGEMENTS", {str(fx.OBS_DOCS), str(fx.OBS_JUDGEMENT_VISITS)}),
        ("q=庭审公开网+court+trial", {str(fx.OBS_TRIAL_VISITS)}),
        ("kind=platform&metric=visits&q=trial", {str(fx.OBS_TRIAL_VISITS)}),
    ],
)
def test_filters(client: FlaskClient, query: str, expected: set[str]) -> None:
    assert {row["observation"] for row in rows_json(client, query)} == expected
    page = tree(client, "/figures?" + query)
    assert {"https://w3id.org/dcdr" + href for href in figure_links(page)} == expected


def test_sorting_by_value_both_ways_and_by_label(client: FlaskClient) -> None:
    values = [row["value"] for row in rows_json(client, "sort=value")]
    assert values == sorted(values)
    assert [row["value"] for row in rows_json(client, "sort=-value")] == sorted(values)[::-1]
    abouts = [row["about_label"] for row in rows_json(client, "sort=about&lang=en")]
    assert abouts == sorted(abouts)


def test_sort_header_links_keep_the_filters(client: FlaskClient) -> None:
    page = tree(client, "/figures?kind=platform&sort=value")
    header = [a.get("href") for th in page.iter(NS + "th") for a in th.iter(NS + "a")]
    assert "/figures?kind=platform&sort=-value" in header
    assert "/figures?kind=platform&sort=about" in header


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("format=pdf", "format"),
        ("section=p4-s9", "section"),
        ("section=../etc", "section"),
        ("metric=no-such-metric", "metric"),
        ("kind=robot", "robot"),
        ("measure=Bogus", "measure="),
        ("basis=guessed", "basis="),
        ("sort=colour", "sort="),
        ("q=" + "x" * 201, "q="),
        ("section=p4-s4&section=p4-s1", "section="),
    ],
)
def test_bad_parameters_are_400_with_a_message(client: FlaskClient, query: str, named: str) -> None:
    response = client.get("/figures?" + query, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert named in response.get_json()["message"]
    page = client.get("/figures?" + query, headers=HTML)
    assert page.status_code == 400 and b"Traceback" not in page.data


def test_csv_has_a_bom_stable_columns_and_the_filtered_rows(client: FlaskClient) -> None:
    response = client.get("/figures?format=csv&kind=platform&lang=zh")
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert '</figures-zh.csv-metadata.json>; rel="describedby"' in response.headers["Link"]
    table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert tuple(table[0].keys()) == COLUMNS
    assert {row["observation"] for row in table} == ALL - {str(fx.OBS_CASES)}
    trial = next(row for row in table if row["observation"] == str(fx.OBS_TRIAL_VISITS))
    assert (trial["value"], trial["comparator"], trial["stated_as"]) == (
        "31900000000",
        str(fx.DCDR.moreThan),
        "319亿人次",
    )
    assert (trial["measure_type"], trial["ref_date"], trial["about_label"]) == (
        str(fx.DCDR.Stock),
        "2020-12-31",
        "中国庭审公开网",
    )


def test_unfiltered_csv_and_metadata_are_the_builds_files(
    client: FlaskClient, workbench_app: Flask
) -> None:
    dist = workbench_app.extensions["dcdr"].settings.dist
    for name in ("figures.csv", "figures-zh.csv"):
        assert client.get("/" + name).data == (dist / name).read_bytes()
        metadata = client.get(f"/{name}-metadata.json")
        assert metadata.mimetype == "application/csvm+json"
        assert metadata.data == (dist / f"{name}-metadata.json").read_bytes()


def test_rows_from_the_store_are_the_builds_rows(workbench_app: Flask) -> None:
    """A deployment without the table in dist/ computes the same rows from the store."""
    with workbench_app.test_request_context("/figures"):
        for lang in ("zh", "en"):
            built = [dict(row) for row in figures_files.table_rows(lang).values()]
            computed = figures_files.rows_from_store(lang)
            # The store writes decimals in canonical form (50.0 → 50): compare them as numbers.
            for row in (*built, *computed):
                row["value"] = str(float(row["value"]))
            assert computed == built


def test_figures_csv_is_the_csv_format(client: FlaskClient) -> None:
    assert client.get("/figures.csv").data == client.get("/figures?format=csv&lang=en").data


def test_xlsx_reads_back_with_numbers_and_dates(client: FlaskClient) -> None:
    response = client.get("/figures?format=xlsx&measure=Stock")
    assert str(response.mimetype).endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert tuple(rows[0]) == COLUMNS
    by_iri = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_iri) == ALL - {str(fx.OBS_CASES)}
    docs = by_iri[str(fx.OBS_DOCS)]
    assert docs["value"] == 110000000
    assert docs["ref_date"] == datetime.datetime(2020, 12, 31)


def test_json_rows_are_typed(client: FlaskClient) -> None:
    document = client.get("/figures?format=json&basis=statedInContext").get_json()
    assert document["columns"] == list(COLUMNS)
    assert document["count"] == 1
    row = document["rows"][0]
    assert row["value"] == 11000 and row["time_basis"] == str(fx.DCDR.statedInContext)
    assert document["filters"]["basis"] == "statedInContext"


def test_csvw_metadata_describes_every_column(client: FlaskClient) -> None:
    metadata = json.loads(client.get("/figures.csv-metadata.json").data)
    assert metadata["url"] == "figures.csv"
    named = [c["name"] for c in metadata["tableSchema"]["columns"] if not c.get("virtual")]
    assert tuple(named) == COLUMNS


def test_the_figure_records_are_queried_once_per_graph_version(
    workbench_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every /figures, /report and search request used to query and label all observations
    again; they are a function of the graph version."""
    from server.pages import figure_records

    calls: list[int] = []
    query = figure_records._query_records

    def counted() -> list[figure_records.FigureRecord]:
        calls.append(1)
        return query()

    monkeypatch.setattr(figure_records, "_query_records", counted)
    workbench_app.extensions.pop("dcdr.figure_records", None)
    client = workbench_app.test_client()
    for url in ("/figures", "/figures?format=json", "/report", "/figures?sort=value"):
        assert client.get(url, headers=HTML).status_code == 200
    assert len(calls) == 1

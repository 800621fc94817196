"""The figures table as files: CSV (with its CSVW metadata), XLSX and JSON.

The rows and the metadata are the build's own (`graph.figures_table`, which `dcdr build` writes
into dist/ as `figures.csv` and `figures-zh.csv`, and whose CSVW metadata converts the CSV back
to the cube's triples); this module only picks the rows the page's filters chose and writes
them in the asked format. A deployment whose dist/ has no table (a remote store, an older
build) gets the same rows computed by the same function from the store's asserted graphs.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font

from graph import figures_table as table
from graph.namespaces import graph_iri

from . import resources
from .dumps_page import dist_folder

CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA = "application/json"
CSVW_MEDIA = "application/csvm+json"
COLUMNS = table.NAMES
# The graphs `dcdr build` gives `figure_rows` (graph.build.ASSERTED).
ASSERTED = ("ontology", "text", "facts", "links")
DATE_COLUMNS = ("ref_date",)

Row = dict[str, str]


def csv_name(lang: str) -> str:
    """The table's file name in dist/ (and on the server) for a language."""
    return table.CSV_NAME if lang == "en" else f"figures-{lang}.csv"


def _from_dist(lang: str) -> list[Row] | None:
    path = dist_folder() / csv_name(lang)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def rows_from_store(lang: str) -> list[Row]:
    """The table computed from the store's asserted graphs, as the build computes it."""
    values = " ".join(resources.sparql_term(graph_iri(name)) for name in ASSERTED)
    graph = resources.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    return table.figure_rows(graph, lang)


def table_rows(lang: str) -> dict[str, Row]:
    """observation IRI → its row in `lang`; read once per app (a build never changes)."""
    cache: dict[str, dict[str, Row]] = current_app.extensions.setdefault("dcdr_figure_rows", {})
    if lang not in cache:
        rows = _from_dist(lang)
        if rows is None:
            rows = rows_from_store(lang)
        cache[lang] = {row["observation"]: row for row in rows}
    return cache[lang]


def csv_bytes(rows: Sequence[Row]) -> bytes:
    """The rows as the build writes them: RFC 4180, UTF-8 with a byte-order mark."""
    return table.csv_bytes(rows)


def metadata_bytes(lang: str) -> bytes:
    """The CSVW metadata of the table in `lang`, the same bytes as the build's."""
    return table.metadata_bytes(lang, csv_name(lang))


def _number(text: str) -> int | Decimal | str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return int(value) if value == value.to_integral_value() and "." not in text else value


def _typed(column: str, text: str) -> Any:
    if text == "":
        return None
    if column == "value":
        return _number(text)
    if column in DATE_COLUMNS:
        return datetime.date.fromisoformat(text)
    return text


def xlsx_bytes(rows: Sequence[Row], title: str) -> bytes:
    """One worksheet: a bold, frozen header row of the column names, then one row per figure;
    values are numbers and reference dates are date cells."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "figures"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([_typed(column, row.get(column, "")) for column in COLUMNS])
    for column in DATE_COLUMNS:
        index = COLUMNS.index(column) + 1
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = "yyyy-mm-dd"
    book.properties.title = title
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json_value(column: str, text: str) -> Any:
    if column != "value" or text == "":
        return text
    value = _number(text)
    # JSON has one number type; an xsd:decimal such as 71.9 is exact as a double too.
    return float(value) if isinstance(value, Decimal) else value


def json_bytes(rows: Sequence[Row], filters: dict[str, str]) -> bytes:
    """The rows as JSON objects under the table's column names, with the filters applied."""
    document = {
        "columns": list(COLUMNS),
        "filters": filters,
        "count": len(rows),
        "rows": [{name: _json_value(name, row.get(name, "")) for name in COLUMNS} for row in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()

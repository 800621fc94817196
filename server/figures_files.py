"""The figures table as files: CSV (with its CSVW metadata), XLSX and JSON.

All three carry the same columns under the same stable names (`figures_table.COLUMNS`) and both
languages' labels, so that a file does not depend on the page it was downloaded from.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from graph.namespaces import DCDR, ID, PROV, QB, RDF

from .figures_table import COLUMNS, FigureRecord

CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA = "application/json"
CSVW_MEDIA = "application/csvm+json"
# The CSV's name next to its metadata (W3C CSVW: `figures.csv` ↔ `figures.csv-metadata.json`).
CSV_NAME = "figures.csv"
FIGURES_DATASET = ID["dataset/figures"]
DATE_COLUMNS = ("ref_date", "as_of")


def csv_bytes(records: Sequence[FigureRecord]) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte-order mark, which spreadsheet programs need to read
    the Chinese text as UTF-8."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.cells().items()})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(column: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if column in DATE_COLUMNS:
        return datetime.date.fromisoformat(str(value))
    return value


def xlsx_bytes(records: Sequence[FigureRecord], title: str) -> bytes:
    """One worksheet: a bold, frozen header row of the column names, then one row per figure;
    numbers stay numbers and dates are date cells."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "figures"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for record in records:
        cells = record.cells()
        sheet.append([_xlsx_cell(column, cells[column]) for column in COLUMNS])
    for column in DATE_COLUMNS:
        index = COLUMNS.index(column) + 1
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = "yyyy-mm-dd"
    book.properties.title = title
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    # JSON has one number type; an xsd:decimal such as 71.9 is exact as a double too.
    return float(value) if isinstance(value, Decimal) else value


def json_document(records: Sequence[FigureRecord], filters: dict[str, str]) -> dict[str, Any]:
    """The rows as JSON objects under the stable column names, with the filters applied."""
    return {
        "columns": list(COLUMNS),
        "filters": filters,
        "count": len(records),
        "rows": [
            {name: _json_value(value) for name, value in record.cells().items()}
            for record in records
        ],
    }


def json_bytes(records: Sequence[FigureRecord], filters: dict[str, str]) -> bytes:
    return json.dumps(json_document(records, filters), ensure_ascii=False, indent=1).encode()


# --- CSVW metadata (W3C "Metadata Vocabulary for Tabular Data") ------------------------------

# column → (property IRI, how the cell becomes RDF); columns missing here are shown to readers
# only (labels, section and sentence numbers) and are left out of the RDF (`suppressOutput`).
_OUTPUT: dict[str, tuple[str, dict[str, Any]]] = {
    "stated_as": (str(DCDR.statedAs), {"lang": "zh"}),
    "value": (str(DCDR.value), {"datatype": "decimal"}),
    "unit": (str(DCDR.unit), {"valueUrl": "{+unit}"}),
    "comparator": (str(DCDR.comparator), {"valueUrl": str(DCDR) + "{comparator}"}),
    "ref_date": (str(DCDR.refDate), {"datatype": "date"}),
    "time_basis": (str(DCDR.timeBasis), {"valueUrl": str(DCDR) + "{time_basis}"}),
    "time_source": (str(DCDR.timeSource), {"valueUrl": "{+time_source}"}),
    "as_of": (str(DCDR.asOf), {"datatype": "date"}),
    "period": (str(DCDR.period), {"datatype": "gYear"}),
    "about": (str(DCDR.about), {"valueUrl": "{+about}"}),
    "metric": (str(DCDR.metric), {"valueUrl": "{+metric}"}),
    "sentence": (str(PROV.wasDerivedFrom), {"valueUrl": "{+sentence}"}),
}
_TITLES = {
    "observation": "Observation IRI",
    "stated_as": "Figure as written",
    "value": "Value",
    "unit": "Unit IRI",
    "comparator": "Comparator",
    "measure_type": "Measure type",
    "ref_date": "Reference date",
    "time_basis": "Time basis",
    "time_source": "Sentence that dates the figure",
    "about": "About (IRI)",
    "metric": "Metric IRI",
    "section": "Section IRI",
    "sentence": "Sentence IRI",
}


def csvw_metadata() -> dict[str, Any]:
    """Table metadata that turns `figures.csv` back into the observations' triples."""
    columns: list[dict[str, Any]] = []
    for name in COLUMNS:
        column: dict[str, Any] = {"name": name, "titles": name}
        if name in _TITLES:
            column["dc:description"] = _TITLES[name]
        if name == "observation":
            column.update(datatype="anyURI", required=True, suppressOutput=True)
        elif name in _OUTPUT:
            prop, how = _OUTPUT[name]
            column["propertyUrl"] = prop
            column.update(how)
        else:
            column["suppressOutput"] = True
        columns.append(column)
    columns.append(
        {"virtual": True, "propertyUrl": str(RDF.type), "valueUrl": str(DCDR.Observation)}
    )
    columns.append(
        {"virtual": True, "propertyUrl": str(QB.dataSet), "valueUrl": str(FIGURES_DATASET)}
    )
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "url": CSV_NAME,
        "dc:title": "Every figure of Part 4 of the Digital China Development Report (2020)",
        "dc:source": str(ID["report/dcdr-2020"]),
        "dialect": {"encoding": "utf-8", "header": True, "lineTerminators": ["\r\n", "\n"]},
        "tableSchema": {
            "columns": columns,
            "primaryKey": "observation",
            "aboutUrl": "{+observation}",
        },
    }

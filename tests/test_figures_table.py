"""The figures table (graph/figures_table.py): rows, CSV bytes, and the CSVW round trip.

The round trip reads the CSV with its metadata through the `csvw` package (the W3C CSVW
tabular-data model: dialect, datatypes, URI templates) and turns each row into triples as the
CSVW-to-RDF rules say (aboutUrl, propertyUrl, valueUrl, datatype, lang, suppressOutput, virtual
columns); the result must be the cube's own triples of every observation.
"""

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import csvw
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rfc3986 import URIReference

from graph.build import ASSERTED, load_sources, merged
from graph.cube import FIGURES
from graph.figures_table import (
    CSV_NAME,
    METADATA_NAME,
    NAMES,
    TableError,
    csv_bytes,
    figure_rows,
    property_columns,
    table_files,
)
from graph.namespaces import DCDR, QB
from graph.paths import Project


@pytest.fixture(scope="module")
def graph() -> Graph:
    return merged(load_sources(Project.from_env()), ASSERTED)


def _literal(value: Any, column: Any) -> Literal:
    lang = column.inherit("lang")
    if isinstance(value, datetime.datetime) and column.datatype.base == "date":
        return Literal(value.date())
    if isinstance(value, str) and lang and lang != "und":
        return Literal(value, lang=lang)
    return Literal(value)


def csvw_to_rdf(metadata_file: Path) -> Graph:
    """The triples of a CSVW table (minimal mode), read with the `csvw` package."""
    table = csvw.Table.from_file(metadata_file)
    about = table.tableSchema.inherit("aboutUrl")
    graph = Graph()
    for number, parsed in enumerate(table.iterdicts(), start=1):
        # csvw parses anyURI cells into rfc3986 references; URI templates expand their text.
        row = {k: v.unsplit() if isinstance(v, URIReference) else v for k, v in parsed.items()}
        subject = URIRef(table.expand(about, row, _row=number))
        for column in table.tableSchema.columns:
            value = row.get(column.name)
            if column.suppressOutput or (not column.virtual and value in (None, "")):
                continue
            name = column.name
            predicate = table.expand(column.inherit("propertyUrl"), row, _row=number, _name=name)
            value_url = column.inherit("valueUrl")
            if value_url:
                graph.add(
                    (
                        subject,
                        URIRef(predicate),
                        URIRef(table.expand(value_url, row, _row=number, _name=name)),
                    )
                )
            else:
                graph.add((subject, URIRef(predicate), _literal(value, column)))
    return graph


def numbers_as_decimals(graph: Graph) -> set[tuple[Any, Any, Any]]:
    """The triples with xsd:integer values read as xsd:decimal: the CSV has one value column
    (decimal, as a spreadsheet wants it), the graph integers and decimals; xsd:integer is a
    subtype of xsd:decimal, so the two name the same numbers."""
    return {
        (
            s,
            p,
            Literal(Decimal(str(o)))
            if isinstance(o, Literal) and o.datatype in (XSD.integer, XSD.decimal)
            else o,
        )
        for s, p, o in graph
    }


def cube_triples(graph: Graph) -> Graph:
    """What the cube states of each observation: type, data set, dimensions, measure,
    attributes and source sentence."""
    expected = Graph()
    for observation in graph.subjects(RDF.type, DCDR.Observation):
        expected.add((observation, RDF.type, DCDR.Observation))
        for triple in graph.triples((observation, QB.dataSet, None)):
            expected.add(triple)
        for column in property_columns():
            for triple in graph.triples((observation, column.property, None)):
                expected.add(triple)
    return expected


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_converts_back_to_the_cube(graph: Graph, lang: str, tmp_path: Path) -> None:
    for name, data in table_files(graph, lang).items():
        (tmp_path / name).write_bytes(data)
    back = csvw_to_rdf(tmp_path / METADATA_NAME)
    assert numbers_as_decimals(back) == numbers_as_decimals(cube_triples(graph))


def test_round_trip_would_see_a_wrong_cell(graph: Graph, tmp_path: Path) -> None:
    files = table_files(graph, "en")
    files[CSV_NAME] = files[CSV_NAME].replace(b",2020-12-31,", b",2019-12-31,", 1)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    back = csvw_to_rdf(tmp_path / METADATA_NAME)
    assert numbers_as_decimals(back) != numbers_as_decimals(cube_triples(graph))


def test_one_row_per_observation_with_stable_columns(graph: Graph) -> None:
    rows = figure_rows(graph, "en")
    assert [tuple(row) for row in rows] == [NAMES] * len(rows)
    assert {URIRef(row["observation"]) for row in rows} == set(
        graph.subjects(RDF.type, DCDR.Observation)
    )


def test_labels_follow_the_language(graph: Graph) -> None:
    english = {row["measure_type_label"] for row in figure_rows(graph, "en")}
    chinese = {row["measure_type_label"] for row in figure_rows(graph, "zh")}
    assert "stock" in english and "存量" in chinese


def test_csv_is_utf8_with_a_byte_order_mark_and_named_columns(graph: Graph) -> None:
    data = csv_bytes(figure_rows(graph, "zh"))
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(NAMES).encode() + b"\r\n")


def test_every_row_is_in_the_figures_data_set(graph: Graph, tmp_path: Path) -> None:
    for name, data in table_files(graph, "en").items():
        (tmp_path / name).write_bytes(data)
    back = csvw_to_rdf(tmp_path / METADATA_NAME)
    assert set(back.objects(None, QB.dataSet)) == {FIGURES}


def test_unknown_language_is_refused(graph: Graph) -> None:
    with pytest.raises(TableError):
        figure_rows(graph, "fr")

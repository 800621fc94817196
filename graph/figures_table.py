"""Every observation as one row of a table, written as CSV with W3C CSVW metadata.

One row per figure: the figure as written, its value, unit, comparator, measure type, reference
date and its basis, what it is about, its metric, and the section and sentence it comes from:
each thing as its IRI and its label in the table's language (`zh` or `en`). Column names are
stable ASCII words whatever the language, so scripts can rely on them.

The CSV is UTF-8 with a byte-order mark, which spreadsheet programs need to read the Chinese;
CSVW readers skip it. Its metadata (`figures.csv-metadata.json`, JSON-LD in the CSVW vocabulary)
maps the columns back to the cube: `aboutUrl` names the observation, `propertyUrl` the cube's
property, `valueUrl` the IRI of a coded value, `datatype` the literal's type, and virtual
columns add `rdf:type dcdr:Observation` and `qb:dataSet`. Converting the CSV back with its
metadata therefore gives each observation's dimensions, measure, attributes and source
sentence, as the figures cube states them (tests/test_figures_table.py does it with the `csvw`
package). Labels and texts are for people and produce no triples (`suppressOutput`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from graph.cube import FIGURES
from graph.namespaces import DCDR, DCTERMS, NIF, PROV, QB, RDF, RDFS

LANGUAGES = ("zh", "en")
CSV_NAME = "figures.csv"
METADATA_NAME = CSV_NAME + "-metadata.json"
CSVW_CONTEXT = "http://www.w3.org/ns/csvw"


@dataclass(frozen=True)
class Column:
    """One column: its stable name, its titles, and what it is in RDF.

    `property` is the cube property the column gives (None: for people only); `iri` says the
    cell is an IRI (then the column's valueUrl is the cell itself); `datatype` is the CSVW
    datatype of a literal; `lang` is "table" for text in the table's language, "zh" for the
    report's own words.
    """

    name: str
    en: str
    zh: str
    property: URIRef | None = None
    iri: bool = False
    datatype: str = "string"
    lang: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("observation", "observation (IRI)", "观测(IRI)", iri=True),
    Column("stated_as", "figure as written", "原文表述", DCDR.statedAs, lang="zh"),
    Column("value", "value", "数值", DCDR.value, datatype="decimal"),
    Column("unit", "unit (IRI)", "单位(IRI)", DCDR.unit, iri=True),
    Column("unit_label", "unit", "单位", lang="table"),
    Column("comparator", "comparator (IRI)", "数量修饰(IRI)", DCDR.comparator, iri=True),
    Column("comparator_label", "comparator", "数量修饰", lang="table"),
    Column("measure_type", "measure type (IRI)", "指标类型(IRI)", DCDR.measureType, iri=True),
    Column("measure_type_label", "measure type", "指标类型", lang="table"),
    Column("ref_date", "reference date", "参考日期", DCDR.refDate, datatype="date"),
    Column("time_basis", "time basis (IRI)", "时间依据(IRI)", DCDR.timeBasis, iri=True),
    Column("time_basis_label", "time basis", "时间依据", lang="table"),
    Column("about", "about (IRI)", "所涉对象(IRI)", DCDR.about, iri=True),
    Column("about_label", "about", "所涉对象", lang="table"),
    Column("metric", "metric (IRI)", "指标(IRI)", DCDR.metric, iri=True),
    Column("metric_label", "metric", "指标", lang="table"),
    Column("section", "section (IRI)", "章节(IRI)", iri=True),
    Column("section_label", "section", "章节", lang="table"),
    Column("sentence", "sentence (IRI)", "句子(IRI)", PROV.wasDerivedFrom, iri=True),
    Column("sentence_text", "sentence", "句子原文", lang="zh"),
)
NAMES = tuple(column.name for column in COLUMNS)


class TableError(ValueError):
    """A language the table is not written in."""


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise TableError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")


def label(graph: Graph, term: Node | None, lang: str) -> str:
    """`term`'s rdfs:label in `lang`, else in the other language, else its IRI's last segment."""
    if term is None:
        return ""
    labels = {
        value.language: str(value)
        for value in graph.objects(term, RDFS.label)
        if isinstance(value, Literal)
    }
    for wanted in (lang, *LANGUAGES):
        if wanted in labels:
            return labels[wanted]
    return str(term).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    """The smallest object (so that a row never depends on the graph's hash order)."""
    found = sorted(graph.objects(subject, predicate), key=str)
    return found[0] if found else None


def _section(graph: Graph, sentence: Node | None) -> Node | None:
    """The dcdr:Section a sentence is part of, through its paragraph."""
    todo, seen = [sentence] if sentence is not None else [], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if (node, RDF.type, DCDR.Section) in graph:
            return node
        todo.extend(sorted(graph.objects(node, DCTERMS.isPartOf), key=str))
    return None


def _text(term: Node | None) -> str:
    return "" if term is None else str(term)


def _position(graph: Graph, observation: Node) -> tuple[str, int, str]:
    """Text order: the sentence, then where the figure starts in it, then the IRI."""
    sentence = _one(graph, observation, PROV.wasDerivedFrom)
    mention = _one(graph, observation, DCDR.mention)
    begin = _one(graph, mention, NIF.beginIndex) if mention is not None else None
    start = int(begin) if isinstance(begin, Literal) else -1
    return (_text(sentence), start, str(observation))


def figure_rows(graph: Graph, lang: str = "en") -> list[dict[str, str]]:
    """One row per `dcdr:Observation` of `graph` (text + facts + ontology, for the labels and
    sentences), in text order, keyed by column name; every cell a string ("" when absent)."""
    _check(lang)
    observations = sorted(
        set(graph.subjects(RDF.type, DCDR.Observation)), key=lambda o: _position(graph, o)
    )
    rows = []
    for observation in observations:

        def get(predicate: URIRef, subject: Node = observation) -> Node | None:
            return _one(graph, subject, predicate)

        sentence = get(PROV.wasDerivedFrom)
        section = _section(graph, sentence)
        row = {
            "observation": str(observation),
            "stated_as": _text(get(DCDR.statedAs)),
            "value": _text(get(DCDR.value)),
            "ref_date": _text(get(DCDR.refDate)),
            "section": _text(section),
            "section_label": label(graph, section, lang) if section is not None else "",
            "sentence": _text(sentence),
            "sentence_text": _text(get(NIF.anchorOf, sentence)) if sentence is not None else "",
        }
        for name, predicate in (
            ("unit", DCDR.unit),
            ("comparator", DCDR.comparator),
            ("measure_type", DCDR.measureType),
            ("time_basis", DCDR.timeBasis),
            ("about", DCDR.about),
            ("metric", DCDR.metric),
        ):
            value = get(predicate)
            row[name] = _text(value)
            row[f"{name}_label"] = label(graph, value, lang) if value is not None else ""
        rows.append({name: row[name] for name in NAMES})
    return rows


def csv_bytes(rows: Iterable[dict[str, str]]) -> bytes:
    """The rows as CSV (RFC 4180, CRLF line ends) in UTF-8 with a byte-order mark."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=NAMES, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def _column(column: Column, lang: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": column.name,
        "titles": column.name,
        "dc:title": [
            {"@value": column.en, "@language": "en"},
            {"@value": column.zh, "@language": "zh"},
        ],
        "datatype": "anyURI" if column.iri else column.datatype,
    }
    if column.lang is not None:
        described["lang"] = lang if column.lang == "table" else column.lang
    if column.property is None:
        described["suppressOutput"] = True
    else:
        described["propertyUrl"] = str(column.property)
        if column.iri:
            described["valueUrl"] = "{+" + column.name + "}"
    if column.name in ("unit", "comparator", "measure_type", "time_basis", "about", "metric"):
        described["required"] = True
    return described


def metadata(lang: str = "en", csv_name: str = CSV_NAME) -> dict[str, Any]:
    """The CSVW metadata document (JSON-LD) of the table written in `lang`."""
    _check(lang)
    columns = [_column(column, lang) for column in COLUMNS]
    columns += [
        {
            "name": "type",
            "virtual": True,
            "propertyUrl": str(RDF.type),
            "valueUrl": str(DCDR.Observation),
        },
        {
            "name": "data_set",
            "virtual": True,
            "propertyUrl": str(QB.dataSet),
            "valueUrl": str(FIGURES),
        },
    ]
    return {
        "@context": [CSVW_CONTEXT, {"@language": lang}],
        "url": csv_name,
        "dc:title": [
            {
                "@value": "Figures of the Digital China Development Report (2020), Part 4",
                "@language": "en",
            },
            {"@value": "《数字中国发展报告(2020年)》第四部分数据", "@language": "zh"},
        ],
        "dc:source": {"@id": str(FIGURES)},
        "dc:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
        "dialect": {"encoding": "utf-8", "header": True},
        "tableSchema": {
            "aboutUrl": "{+observation}",
            "primaryKey": "observation",
            "columns": columns,
        },
    }


def metadata_bytes(lang: str = "en", csv_name: str = CSV_NAME) -> bytes:
    """`metadata` as JSON text, the same bytes for the same arguments."""
    return (json.dumps(metadata(lang, csv_name), ensure_ascii=False, indent=2) + "\n").encode()


def table_files(graph: Graph, lang: str = "en", csv_name: str = CSV_NAME) -> dict[str, bytes]:
    """File name → bytes of the CSV and its CSVW metadata (`<csv_name>-metadata.json`, where
    CSVW readers look for it)."""
    return {
        csv_name: csv_bytes(figure_rows(graph, lang)),
        f"{csv_name}-metadata.json": metadata_bytes(lang, csv_name),
    }


def dist_files(graph: Graph) -> dict[str, bytes]:
    """What `dcdr build` writes into dist/: the table with English labels as `figures.csv`,
    with Chinese labels as `figures-zh.csv`, each with its metadata."""
    return {**table_files(graph, "en"), **table_files(graph, "zh", "figures-zh.csv")}


def property_columns() -> Sequence[Column]:
    """The columns that give the observation a triple."""
    return [column for column in COLUMNS if column.property is not None]

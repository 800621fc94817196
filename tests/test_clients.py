"""Real SPARQL clients against a running server: SPARQLWrapper in every format it asks for, and
Debian's `roqet` (rasqal-utils), which asks for SPARQL XML."""

from __future__ import annotations

import csv
import io
import subprocess
from typing import Any

import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS
from SPARQLWrapper import CSV, JSON, TSV, TURTLE, XML, SPARQLWrapper

from graph.namespaces import DCDR, ID
from tests.server_fixtures import AGENCIES

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

LABELS = f"SELECT ?s ?label WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
EXPECTED = {
    (str(ID[f"agency/{slug}"]), label) for slug, labels in AGENCIES.items() for label in labels
}


def _client(url: str, query: str, fmt: str) -> Any:
    client = SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client.query().convert()


def test_sparqlwrapper_json(sparql_url: str) -> None:
    answer = _client(sparql_url, LABELS, JSON)
    rows = {(b["s"]["value"], b["label"]["value"]) for b in answer["results"]["bindings"]}
    assert rows == EXPECTED


def test_sparqlwrapper_xml(sparql_url: str) -> None:
    document = _client(sparql_url, LABELS, XML)
    rows = set()
    for result in document.getElementsByTagName("result"):
        values = {}
        for binding in result.getElementsByTagName("binding"):
            values[binding.getAttribute("name")] = binding.firstChild.firstChild.data
        rows.add((values["s"], values["label"]))
    assert rows == EXPECTED


@pytest.mark.parametrize(("fmt", "delimiter"), [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_csv_tsv(sparql_url: str, fmt: str, delimiter: str) -> None:
    body = _client(sparql_url, LABELS, fmt)
    reader = csv.reader(io.StringIO(body.decode("utf-8")), delimiter=delimiter)
    header, *rows = list(reader)
    assert [name.lstrip("?") for name in header] == ["s", "label"]
    if fmt == TSV:
        # TSV writes terms in Turtle syntax: <iri> and "label"@lang.
        parsed = {(s.strip("<>"), label.rsplit("@", 1)[0].strip('"')) for s, label in rows}
    else:
        parsed = {(s, label) for s, label in rows}
    assert parsed == EXPECTED


def test_sparqlwrapper_turtle(sparql_url: str) -> None:
    query = f"CONSTRUCT WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
    body = _client(sparql_url, query, TURTLE)
    graph = Graph().parse(data=body, format="turtle")
    expected = Graph()
    for slug, (zh, en) in AGENCIES.items():
        agency = ID[f"agency/{slug}"]
        expected.add((agency, RDF.type, DCDR.Agency))
        expected.add((agency, RDFS.label, Literal(zh, lang="zh")))
        expected.add((agency, RDFS.label, Literal(en, lang="en")))
    assert isomorphic(graph, expected)


def test_roqet(sparql_url: str) -> None:
    completed = subprocess.run(
        ["roqet", "-p", sparql_url, "-e", LABELS, "-r", "csv"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    header, *rows = list(csv.reader(io.StringIO(completed.stdout.decode("utf-8"))))
    assert header == ["s", "label"]
    assert {(s, label) for s, label in rows} == EXPECTED

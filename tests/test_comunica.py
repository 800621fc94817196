"""Comunica (`comunica-sparql` from npm, pinned in tests/clients/, installed by `make clients`)
against real servers on loopback: one SPARQL endpoint as its single source, and the real
build's endpoint federated with a Turtle file of outside data, joined through the `links`
graph's skos:exactMatch.

Comunica's own output drops language tags from literals it prints (also for literals of a
Turtle file: its writer, not our answer), so rows are compared by value; the graphs it writes
as N-Triples are compared as graphs."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from graph.namespaces import DCDR, ID
from tests.server_fixtures import AGENCIES, PROJECT, ServerProcess, agency_graph

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

COMUNICA = PROJECT / "tests" / "clients" / "node_modules" / ".bin" / "comunica-sparql"
RESULTS_JSON = "application/sparql-results+json"
LABELS = f"SELECT ?s ?label WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
# Outside data keyed by Wikidata IRIs, as an integrator would hold it (made-up values).
OUTSIDE = """@prefix wd: <http://www.wikidata.org/entity/> .
wd:Q956 <urn:test:marker> "beijing-marker" .
wd:Q8686 <urn:test:marker> "shanghai-marker" .
wd:Q1 <urn:test:marker> "matched by nothing of ours" .
"""
JOIN = (
    "SELECT ?region ?marker WHERE { "
    "?region <http://www.w3.org/2004/02/skos/core#exactMatch> ?wd . "
    "?wd <urn:test:marker> ?marker }"
)


def comunica(*args: str) -> str:
    if not COMUNICA.is_file():
        message = "Comunica is not installed: run `make clients` (npm ci in tests/clients)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        [str(COMUNICA), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def _rows(output: str, *names: str) -> set[tuple[str, ...]]:
    bindings = json.loads(output)["results"]["bindings"]
    return {tuple(row[name]["value"] for name in names) for row in bindings}


def test_comunica_single_source_select(sparql_url: str) -> None:
    output = comunica(f"sparql@{sparql_url}", "-t", RESULTS_JSON, LABELS)
    expected = {
        (str(ID[f"agency/{slug}"]), label) for slug, labels in AGENCIES.items() for label in labels
    }
    assert _rows(output, "s", "label") == expected


def test_comunica_single_source_construct(sparql_url: str) -> None:
    query = f"CONSTRUCT WHERE {{ ?s a <{DCDR.Agency}> ; <{RDFS.label}> ?label }}"
    output = comunica(f"sparql@{sparql_url}", "-t", "application/n-triples", query)
    assert isomorphic(Graph().parse(data=output, format="nt"), agency_graph())


def test_comunica_ask(sparql_url: str) -> None:
    output = comunica(f"sparql@{sparql_url}", "-t", RESULTS_JSON, f"ASK {{ ?s a <{DCDR.Agency}> }}")
    assert json.loads(output)["boolean"] is True


@pytest.fixture(scope="module")
def real_endpoint(real_dist: Path) -> Iterator[str]:
    server = ServerProcess(real_dist)
    try:
        server.wait_ready(60)
        yield server.url + "/sparql"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def outside_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The outside data as a Turtle file on a loopback HTTP server (Comunica's Node CLI reads
    sources by URL only)."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "wikidata.ttl").write_text(OUTSIDE, encoding="utf-8")
    handler = functools.partial(_TurtleFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wikidata.ttl"
    server.shutdown()
    server.server_close()


class _TurtleFiles(http.server.SimpleHTTPRequestHandler):
    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "text/turtle" if str(path).endswith(".ttl") else super().guess_type(path)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_comunica_federates_the_endpoint_with_a_turtle_file(
    real_endpoint: str, outside_file: str
) -> None:
    output = comunica(f"sparql@{real_endpoint}", outside_file, "-t", RESULTS_JSON, JOIN)
    assert _rows(output, "region", "marker") == {
        (str(ID["region/beijing"]), "beijing-marker"),
        (str(ID["region/shanghai"]), "shanghai-marker"),
    }

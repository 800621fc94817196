"""The store is sealed (server/stores/sealing.py): a store's own extensions are refused with 400
before any store is asked, and through a real Virtuoso (Debian's, started here as the suite's other
Virtuoso tests start it) a query sees the project's named graphs only, whatever graphs it or
its request names."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph.namespaces import graph_iri
from server import create_app
from server.stores.sealing import sealed_query
from server.stores.store import DatasetSpec
from server.stores.vendor_extensions import vendor_extension
from tests import test_remote_store as remote
from tests.server_fixtures import free_port

VIRTRDF = "http://www.openlinksw.com/schemas/virtrdf#"
FACTS = str(graph_iri("facts"))
TEXT = str(graph_iri("text"))
COUNT = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s ?p ?o }}"

VENDOR = [
    "SELECT (bif:sys_stat('st_dbms_ver') AS ?v) WHERE {}",
    "SELECT (<bif:sys_stat>('st_dbms_ver') AS ?v) WHERE {}",
    "SELECT (<BIF:sys_stat>('st_dbms_ver') AS ?v) WHERE {}",
    "PREFIX b: <bif:> SELECT (b:sys_stat('st_dbms_ver') AS ?v) WHERE {}",
    "SELECT (<\\u0062if:sys_stat>('st_dbms_ver') AS ?v) WHERE {}",
    "BASE <bif:> SELECT (<sys_stat>('st_dbms_ver') AS ?v) WHERE {}",
    "SELECT (<sql:RDF_GRAPH_USER_PERMS_GET>('g', 'u') AS ?v) WHERE {}",
    "DEFINE input:inference 'rules' SELECT * WHERE { ?s ?p ?o }",
    "define get:soft 'replace' SELECT * FROM <http://example.org/> WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o OPTION (TRANSITIVE, t_distinct) }",
]
STANDARD = [
    "SELECT * WHERE { ?s ?p 'bif:sys_stat' }",
    "SELECT * WHERE { ?s ?p ?o } # bif:sys_stat DEFINE",
    "SELECT ?define ?option WHERE { ?define ?option ?o OPTIONAL { ?o ?p ?x } }",
    "PREFIX sqlx: <http://example.org/> SELECT * WHERE { ?s sqlx:p ?o }",
]


@pytest.mark.parametrize("query", VENDOR)
def test_vendor_extensions_are_found(query: str) -> None:
    assert vendor_extension(query) is not None


@pytest.mark.parametrize("query", STANDARD)
def test_standard_queries_are_not_taken_for_extensions(query: str) -> None:
    assert vendor_extension(query) is None


@pytest.mark.parametrize("query", VENDOR)
def test_vendor_extensions_never_reach_the_store(query: str) -> None:
    # The store is down: a query that reached it would be answered 503, not 400.
    app = create_app(
        {
            "store": f"sparql:http://127.0.0.1:{free_port()}/sparql",
            "store_version": "v1",
            "access_log": False,
        }
    )
    answer = app.test_client().get("/sparql", query_string={"query": query})
    assert answer.status_code == 400, answer.data


def test_dataset_clauses_are_taken_out_and_kept_within_the_project() -> None:
    query = (
        "BASE <https://w3id.org/dcdr/graph/> PREFIX g: <https://w3id.org/dcdr/graph/> "
        f"SELECT * FROM g:facts FROM <{VIRTRDF}> FROM NAMED <text> FROM NAMED <x:y> "
        "WHERE { ?s ?p 'FROM <a>' }"
    )
    sealed = sealed_query(query)
    assert sealed.dataset == DatasetSpec((FACTS,), (TEXT,))
    assert "FROM <" not in sealed.text.replace("'FROM <a>'", "")
    assert sealed.text.endswith("WHERE { ?s ?p 'FROM <a>' }")


# -- through a real Virtuoso ------------------------------------------------------------------


@pytest.fixture(scope="module")
def virtuoso_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if shutil.which("virtuoso-t") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("virtuoso-opensource must be installed in CI (.ci/system-deps)")
        pytest.skip("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")
    from tests import store_recipes  # the sealed recipe of docs/deploy.md: a read-only user

    dist = remote.write_dist(tmp_path_factory.mktemp("dist"), remote.fixture_dataset())
    with store_recipes.virtuoso_read_only(dist, tmp_path_factory.mktemp("virtuoso")) as server:
        settings = {"store": server.setting, "store_version": "v1"}
        yield create_app({**settings, "access_log": False})


@pytest.fixture
def client(virtuoso_app: Flask) -> FlaskClient:
    return virtuoso_app.test_client()


def rows(client: FlaskClient, query: str, **params: str) -> list[dict[str, str]]:
    answer = client.get(
        "/sparql", query_string={"query": query, **params}, headers={"Accept": "text/csv"}
    )
    assert answer.status_code == 200, answer.data
    return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8"))))


def count(client: FlaskClient, query: str, **params: str) -> int:
    (row,) = rows(client, query, **params)
    return int(row["n"])


@pytest.mark.slow
def test_virtuoso_system_graphs_are_not_visible(client: FlaskClient) -> None:
    seen = {
        "from": count(client, COUNT.format(f"FROM <{VIRTRDF}>")),
        "from named": count(
            client,
            f"SELECT (COUNT(*) AS ?n) FROM NAMED <{VIRTRDF}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        ),
        "graph": len(rows(client, f"SELECT * WHERE {{ GRAPH <{VIRTRDF}> {{ ?s ?p ?o }} }}")),
        "default-graph-uri": count(client, COUNT.format(""), **{"default-graph-uri": VIRTRDF}),
        "named-graph-uri": len(
            rows(
                client,
                "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                **{"named-graph-uri": VIRTRDF},
            )
        ),
    }
    assert seen == dict.fromkeys(seen, 0)


@pytest.mark.slow
def test_only_the_projects_graphs_are_named(client: FlaskClient) -> None:
    found = {row["g"] for row in rows(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert found == {FACTS, TEXT, str(graph_iri("shapes"))}


@pytest.mark.slow
def test_project_graphs_named_with_outside_ones_are_still_answered(client: FlaskClient) -> None:
    facts = count(client, COUNT.format(f"FROM <{FACTS}>"))
    assert facts > 0
    assert count(client, COUNT.format(f"FROM <{FACTS}> FROM <{VIRTRDF}>")) == facts


@pytest.mark.slow
def test_an_empty_part_of_the_dataset_is_empty(client: FlaskClient) -> None:
    # FROM NAMED alone: the default graph is empty (SPARQL 1.1 section 13.2), not the store's.
    query = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{FACTS}> WHERE {{ ?s ?p ?o }}"
    assert count(client, query) == 0


@pytest.mark.slow
def test_vendor_functions_are_refused_by_the_app(client: FlaskClient) -> None:
    answer = client.get("/sparql", query_string={"query": VENDOR[0]})
    assert answer.status_code == 400
    assert b"07.20" not in answer.data  # Virtuoso's version, which bif:sys_stat returned


@pytest.mark.slow
def test_readiness_through_virtuoso(client: FlaskClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.data
    body = answer.get_json()
    assert (body["status"], body["version"]) == ("ready", "v1")

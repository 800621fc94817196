"""The dataset's description states the address the server is reached at, the same in every
representation: the `public_base` setting, else the request's own origin. The build writes
its own default (`graph.void.DEFAULT_PUBLIC_BASE`); the server rewrites it as it answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import cast
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

from graph.namespaces import DATASET_IRI
from graph.void import DEFAULT_PUBLIC_BASE
from server.protocol.public_address import built_root
from server.stores.store import QueryResult, QueryStore, StoreUnavailable
from tests import pages_fixtures as fx

ORIGIN = "http://dcdr.example:9000"
PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld"}
ENDPOINT_QUERY = f"SELECT ?e WHERE {{ <{DATASET_IRI}> <{VOID.sparqlEndpoint}> ?e }}"


def _stated_endpoint(client: FlaskClient, path: str, accept: str, base: str) -> str:
    """The endpoint IRI the answer states (its void:sparqlEndpoint), read as data."""
    response = client.get(path, headers={"Accept": accept}, base_url=base)
    assert response.status_code == 200, response.get_data(as_text=True)
    if accept == "application/sparql-results+json":
        rows = json.loads(response.data)["results"]["bindings"]
        return str(rows[0]["e"]["value"])
    if accept == "text/html":
        links = re.findall(r'href="(https?://[^"]+/sparql)"', response.get_data(as_text=True))
        return links[0] if len(set(links)) == 1 else f"not one address: {links}"
    graph = Graph().parse(data=response.data, format=PARSERS[accept])
    return str(graph.value(URIRef(str(DATASET_IRI)), VOID.sparqlEndpoint))


REPRESENTATIONS = [
    ("/id/dataset", "text/turtle"),
    ("/id/dataset", "application/ld+json"),
    ("/id/dataset", "text/html"),
    ("/void.ttl", "text/turtle"),
    ("/.well-known/void", "text/turtle"),
    ("/dumps/void.ttl", "text/turtle"),
    ("/sparql?" + urlencode({"query": ENDPOINT_QUERY}), "application/sparql-results+json"),
]


@pytest.mark.parametrize(("path", "accept"), REPRESENTATIONS)
def test_dataset_description_named_a_fixed_address(
    client: FlaskClient, path: str, accept: str
) -> None:
    """Every representation named http://127.0.0.1:8000/ whatever the server's address; each
    now states the origin the request reached."""
    assert _stated_endpoint(client, path, accept, ORIGIN) == f"{ORIGIN}/sparql"


@pytest.fixture(scope="module")
def public_app(pages_app: Flask) -> Iterator[Flask]:
    from server import create_app

    settings = pages_app.extensions["dcdr"].settings
    app = create_app(settings.replace(public_base="https://kg.example.org/dcdr"))
    app.config["TESTING"] = True
    yield app
    fx.close_app(app)


@pytest.mark.parametrize(("path", "accept"), REPRESENTATIONS)
def test_public_base_setting_wins_over_the_request(
    public_app: Flask, path: str, accept: str
) -> None:
    stated = _stated_endpoint(public_app.test_client(), path, accept, ORIGIN)
    assert stated == "https://kg.example.org/dcdr/sparql"


def test_the_build_keeps_its_default_address(pages_app: Flask) -> None:
    """dist/ stays as built (deterministic, hashed): only answers are rewritten."""
    folder = pages_app.extensions["dcdr"].settings.dist
    assert DEFAULT_PUBLIC_BASE.encode() in (folder / "void.ttl").read_bytes()


class _UnreachableStore:
    version = "v-unreachable"

    def query(self, *args: object, **kwargs: object) -> QueryResult:
        raise StoreUnavailable("the remote store is down")


def test_an_unreachable_store_leaves_answers_as_they_are() -> None:
    """The build's address is asked of the store: when it cannot answer, answers go out
    unchanged (and /healthz does not fail with it) instead of failing."""
    assert built_root(cast(QueryStore, _UnreachableStore())) == ""


def test_localized_sparql_answer_never_revalidated(client: FlaskClient) -> None:
    """An answer with the address written in carries its own ETag; a client holding it got
    the whole answer again, since the endpoint compared the ETag before the address was
    written in. It now gets a 304."""
    path = "/sparql?" + urlencode({"query": ENDPOINT_QUERY})
    first = client.get(path, base_url=ORIGIN)
    again = client.get(path, base_url=ORIGIN, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_query_page_parsed_relative_iris_without_a_base(client: FlaskClient) -> None:
    """The query page ran queries with no base IRI, so `<s>` failed there as it did at the
    endpoint; it resolves against the endpoint's IRI now."""
    page = client.get(
        "/sparql?" + urlencode({"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"}),
        headers={"Accept": "text/html"},
        base_url=ORIGIN,
    )
    assert (page.status_code, f"{ORIGIN}/s" in page.get_data(as_text=True)) == (200, True)

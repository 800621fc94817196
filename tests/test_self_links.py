"""Every link the server states about itself resolves, followed over HTTP against a real server
on the real build, on a port other than the build's default address: the service
description's rdfs:seeAlso and sd:endpoint, and the dataset description's void:* and
dcat:downloadURL links (endpoint, dumps, subsets, partitions, root resource, and the
project's own classes and properties)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDFS, VOID

from graph.namespaces import BASE, SD
from tests.server_fixtures import ServerProcess

SELF_PREDICATES = {RDFS.seeAlso, DCAT.downloadURL, SD.endpoint}


@pytest.fixture(scope="module")
def real_server(real_dist: Path) -> Iterator[str]:
    server = ServerProcess(real_dist)
    try:
        server.wait_ready(60)
        yield server.url
    finally:
        server.stop()


def _turtle(url: str) -> Graph:
    response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=30)
    response.raise_for_status()
    return Graph().parse(data=response.content, format="turtle")


def _stated_links(origin: str) -> set[str]:
    """The links the server's descriptions state, as URLs of this server."""
    stated = _turtle(origin + "/sparql") + _turtle(origin + "/id/dataset")
    stated += _turtle(origin + "/.well-known/void")
    links = set()
    for _, predicate, obj in stated:
        if not isinstance(obj, URIRef):
            continue
        if predicate not in SELF_PREDICATES and not str(predicate).startswith(str(VOID)):
            continue
        iri = urldefrag(str(obj)).url
        if iri.startswith(BASE):
            # The project's IRIs answer below the server's root (DESIGN.md, IRIs).
            links.add(origin + "/" + iri.removeprefix(BASE))
        elif iri.startswith(origin + "/") or iri.startswith("http://127.0.0.1:8000/"):
            links.add(iri)
    return links


def test_links_the_server_states_about_itself_resolve(real_server: str) -> None:
    links = _stated_links(real_server)
    failed = []
    with requests.Session() as session:
        for link in sorted(links):
            response = session.get(link, headers={"Accept": "text/turtle"}, timeout=30)
            if response.status_code != 200 or not link.startswith(real_server):
                failed.append((link, response.status_code))
    assert len(links) > 200 and failed == [], failed[:20]

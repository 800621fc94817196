"""The service description and the VoID it points at, against a real server: every RDF format
the description lists is served, and every link it states about the server resolves."""

from __future__ import annotations

import pytest
import requests
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, VOID

from graph.namespaces import DATASET_IRI
from server.protocol import negotiation
from tests.server_fixtures import media_type

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

PARSERS = {
    negotiation.TURTLE: "turtle",
    negotiation.N_TRIPLES: "nt",
    negotiation.N_QUADS: "nquads",
    negotiation.TRIG: "trig",
    negotiation.JSON_LD: "json-ld",
    negotiation.RDF_XML: "xml",
}


def _described(sparql_url: str, media: str) -> Graph:
    response = requests.get(sparql_url, headers={"Accept": media}, timeout=10)
    assert (response.status_code, media_type(response)) == (200, media), response.text
    if media in (negotiation.N_QUADS, negotiation.TRIG):
        dataset = Dataset()
        dataset.parse(data=response.content, format=PARSERS[media])
        graph = Graph()
        for triple in dataset.triples((None, None, None)):
            graph.add(triple)
        return graph
    return Graph().parse(data=response.content, format=PARSERS[media])


def test_service_description_as_n_quads_was_a_500(sparql_url: str) -> None:
    """Comunica asks for N-Quads first; rdflib refused to write a plain graph as N-Quads and
    the answer was a 500. The description is now the dataset's default graph."""
    assert isomorphic(
        _described(sparql_url, negotiation.N_QUADS), _described(sparql_url, negotiation.TURTLE)
    )


@pytest.mark.parametrize("media", negotiation.GRAPH_TYPES)
def test_service_description_in_every_rdf_format(sparql_url: str, media: str) -> None:
    assert isomorphic(_described(sparql_url, media), _described(sparql_url, negotiation.TURTLE))


def test_see_also_of_the_service_description_was_404(sparql_url: str) -> None:
    """Its rdfs:seeAlso named /.well-known/void and /void.ttl, neither of which was served;
    both now answer the dataset's VoID description."""
    links = sorted(
        str(o) for o in _described(sparql_url, negotiation.TURTLE).objects(None, RDFS.seeAlso)
    )
    found = []
    for link in links:
        response = requests.get(str(link), timeout=10)
        graph = Graph().parse(data=response.content, format="turtle") if response.ok else Graph()
        found.append((str(link), response.status_code, (DATASET_IRI, None, VOID.Dataset) in graph))
    assert found and all(status == 200 and void for _, status, void in found), found


def test_well_known_void_is_turtle(server_url: str) -> None:
    response = requests.get(server_url + "/.well-known/void", timeout=10)
    graph = Graph().parse(data=response.content, format="turtle")
    assert (media_type(response), URIRef(str(DATASET_IRI)) in set(graph.subjects())) == (
        "text/turtle",
        True,
    )

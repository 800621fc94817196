"""Dereferenceable IRIs: content negotiation, concise bounded descriptions, 404s, ontology, VoID."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from graph.namespaces import DATASET_IRI, DCDR, DCTERMS, ID, RDFS, SKOS, graph_iri
from graph.void import DEFAULT_PUBLIC_BASE
from tests import pages_fixtures as fx

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
}


def expected_description(iri: URIRef) -> Graph:
    """The concise bounded description computed directly from the fixture's triples."""
    union = fx.union_graph()
    expected = Graph()
    pending: list[object] = [iri]
    seen: set[object] = set()
    while pending:
        node = pending.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in union.triples((node, None, None)):  # type: ignore[arg-type]
            expected.add(triple)
            if isinstance(triple[2], BNode):
                pending.append(triple[2])
    for _, _, obj in union.triples((iri, None, None)):
        if isinstance(obj, URIRef):
            for prop in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
                for label in union.objects(obj, prop):
                    expected.add((obj, prop, label))
    for triple in union.triples((None, None, iri)):
        expected.add(triple)
    return expected


def parse(body: bytes, serializer: str) -> Graph:
    return Graph().parse(data=body, format=serializer)


@pytest.mark.parametrize(
    "iri",
    [fx.JUDGEMENTS, fx.HANGZHOU, fx.VISITS, fx.OBS_TRIAL_VISITS, fx.SENTENCES[1], fx.AGENCY],
)
def test_turtle_answer_is_the_concise_bounded_description(client: FlaskClient, iri: URIRef) -> None:
    path = "/" + str(iri).removeprefix("https://w3id.org/dcdr/")
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    got = parse(response.data, "turtle")
    assert isomorphic(got, expected_description(iri))


def test_description_follows_blank_node_chains(client: FlaskClient) -> None:
    response = client.get("/id/agency/hangzhou-internet-court", headers={"Accept": "text/turtle"})
    got = parse(response.data, "turtle")
    labels = {str(label) for label in got.objects(None, RDFS.label)}
    # The locality's label sits two blank nodes away from the court.
    assert "杭州市" in labels


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_parameter_and_accept_give_the_same_graph(client: FlaskClient, name: str) -> None:
    media, serializer = FORMATS[name]
    by_param = client.get(f"/id/platform/china-judgements-online?format={name}")
    by_accept = client.get("/id/platform/china-judgements-online", headers={"Accept": media})
    assert by_param.status_code == by_accept.status_code == 200
    assert by_param.mimetype == by_accept.mimetype == media
    assert isomorphic(parse(by_param.data, serializer), parse(by_accept.data, serializer))
    assert isomorphic(parse(by_param.data, serializer), expected_description(fx.JUDGEMENTS))


def test_negotiation_headers(client: FlaskClient) -> None:
    response = client.get("/id/platform/china-judgements-online", headers={"Accept": "text/turtle"})
    assert "Accept" in response.headers["Vary"]
    link = response.headers["Link"]
    for name, (media, _) in FORMATS.items():
        assert f'?format={name}>; rel="alternate"; type="{media}"' in link


def test_browser_gets_html(client: FlaskClient) -> None:
    response = client.get("/id/platform/china-judgements-online", headers=HTML)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    assert "中国裁判文书网" in response.get_data(as_text=True)


def test_unknown_iri_is_404_with_a_search_form(client: FlaskClient) -> None:
    response = client.get("/id/platform/no-such-platform", headers=HTML)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'action="/search"' in page
    assert 'value="no such platform"' in page


def test_unknown_iri_is_404_for_rdf_clients(client: FlaskClient) -> None:
    response = client.get(
        "/id/platform/no-such-platform", headers={"Accept": "text/turtle, application/json;q=0.5"}
    )
    assert response.status_code == 404
    assert "no-such-platform" in json.loads(response.data)["message"]


def test_unknown_format_is_a_clear_400(client: FlaskClient) -> None:
    response = client.get("/id/platform/china-judgements-online?format=pdf")
    assert response.status_code == 400
    assert "pdf" in response.get_data(as_text=True)


def test_unacceptable_type_is_406(client: FlaskClient) -> None:
    response = client.get("/id/platform/china-judgements-online", headers={"Accept": "image/png"})
    assert response.status_code == 406


@pytest.mark.parametrize("path", ["/ontology", "/ontology/"])
def test_ontology_is_served_as_rdf(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert isomorphic(parse(response.data, "turtle"), fx.ontology_graph())


def test_ontology_page_has_an_anchor_per_term(client: FlaskClient) -> None:
    page = client.get("/ontology", headers=HTML).get_data(as_text=True)
    for term in ("Agency", "Platform", "operatedBy"):
        assert f'id="{term}"' in page
    # Type links on resource pages land on those anchors.
    resource = client.get("/id/platform/china-judgements-online", headers=HTML)
    assert 'href="/ontology#Platform"' in resource.get_data(as_text=True)


def test_dataset_iri_serves_the_void_description(client: FlaskClient) -> None:
    # Reached at the address the build wrote in, the server states the meta graph unchanged
    # (elsewhere it states its own address: tests/test_public_address.py).
    response = client.get(
        "/id/dataset",
        headers={"Accept": "application/n-triples"},
        base_url=DEFAULT_PUBLIC_BASE.rstrip("/"),
    )
    assert response.status_code == 200
    expected = fx.fixture_graphs()[graph_iri("meta")]
    assert isomorphic(parse(response.data, "nt"), expected)
    assert (DATASET_IRI, None, None) in parse(response.data, "nt")


def test_every_fixture_iri_dereferences(client: FlaskClient) -> None:
    subjects = {s for s in fx.union_graph().subjects() if str(s).startswith(str(ID))}
    assert len(subjects) > 20
    for iri in sorted(str(subject) for subject in subjects):
        path = "/" + iri.removeprefix("https://w3id.org/dcdr/")
        for headers in (HTML, {"Accept": "text/turtle"}):
            assert client.get(path, headers=headers).status_code == 200, path


def test_fixture_dist_matches_the_layout_the_server_checks(tmp_path: Path) -> None:
    dist = fx.build_fixture_dist(tmp_path / "dist")
    assert (dist / "store").is_dir()
    assert "dcdr.nq" in (dist / "SHA256SUMS").read_text()


WALKED_KINDS = ("agency", "platform", "service", "region", "metric", "observation", "sentence")


@pytest.fixture(scope="module")
def real_app(real_dist: Path) -> Iterator[Flask]:
    application = fx.make_app(real_dist)
    yield application
    fx.close_app(application)


@pytest.mark.slow
def test_every_iri_in_the_real_dumps_dereferences(real_app: Flask) -> None:
    dist = real_app.extensions["dcdr"].settings.dist
    dataset = Dataset()
    dataset.parse(dist / "dcdr.nq", format="nquads")
    iris = {
        str(term)
        for quad in dataset.quads((None, None, None, None))
        for term in (quad[0], quad[2])
        if isinstance(term, URIRef) and str(term).startswith(str(ID))
    }
    walked = sorted(iri for iri in iris if iri[len(str(ID)) :].split("/", 1)[0] in WALKED_KINDS)
    assert {iri[len(str(ID)) :].split("/", 1)[0] for iri in walked} >= {
        "agency",
        "platform",
        "metric",
        "observation",
        "sentence",
    }
    client = real_app.test_client()
    failures = []
    for iri in walked:
        path = "/" + iri.removeprefix("https://w3id.org/dcdr/")
        for headers in (HTML, {"Accept": "text/turtle"}):
            status = client.get(path, headers=headers).status_code
            if status != 200:
                failures.append((status, path, headers["Accept"]))
    assert failures == []


@pytest.mark.parametrize("path", ["/id/platform/china-judgements-online", "/id/dataset"])
def test_jsonld_was_expanded_without_a_context(client: FlaskClient, path: str) -> None:
    """/id/… answered expanded JSON-LD with no @context; it is now compacted with the
    project's prefixes, and reads back as the same graph as the Turtle."""
    document = client.get(path, headers={"Accept": "application/ld+json"})
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    context = json.loads(document.data).get("@context", {})
    assert (
        context.get("dcdr"),
        isomorphic(parse(document.data, "json-ld"), parse(turtle.data, "turtle")),
    ) == (str(DCDR), True)

"""A remote store's version, when nobody named it, follows its content: two contents never
share one (every ETag holds the version, so a shared one lets a 304 confirm a wrong answer)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef

from graph.namespaces import DCDR, ID
from graph.publish import publish
from server.stores.content_fingerprint import multiset_digest
from server.stores.remote_store import RemoteSparqlStore
from tests import test_remote_store as remote


def test_a_corrected_figure_of_the_same_size_changes_the_version(tmp_path: Path) -> None:
    """The fingerprint hashed each graph's triple count alone: a corrected value kept it."""
    dataset = remote.fixture_dataset()
    with remote.oxigraph_server(tmp_path / "oxigraph") as base:
        publish(remote.write_dist(tmp_path / "first", dataset), f"{base}/store")
        before = RemoteSparqlStore(f"{base}/query").version
        facts = dataset.graph(URIRef(remote.FACTS))
        observation = ID["observation/fx-1"]
        facts.set((observation, DCDR.value, Literal(Decimal("18.6"))))  # was 18.5
        publish(remote.write_dist(tmp_path / "second", dataset), f"{base}/store")
        after = RemoteSparqlStore(f"{base}/query").version
    assert before != after


def test_the_digest_ignores_order_and_blank_node_labels() -> None:
    triples = [
        ox.Triple(ox.BlankNode("a1"), ox.NamedNode("urn:p"), ox.Literal("x")),
        ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("1")),
    ]
    relabelled = [ox.Triple(ox.BlankNode("zz"), triples[0].predicate, triples[0].object)]
    assert multiset_digest(triples) == multiset_digest([triples[1], *relabelled])

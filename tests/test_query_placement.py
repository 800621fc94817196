"""Where the embedded store evaluates a query once it may do so in process
(server/stores/oxigraph_store.py): in process when it looks cheap, in a killable process when its
patterns fall apart or it ran long before, and back in process once it runs fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import Settings
from server.stores.oxigraph_store import OxigraphStore
from server.stores.query_analysis import plan_query
from server.stores.store import MEDIA_JSON, DatasetSpec

pytest_plugins = ("tests.server_fixtures",)

CONNECTED = "SELECT ?a WHERE { ?a a <https://w3id.org/dcdr/ontology#Agency> }"
DISCONNECTED = "ASK { ?a <urn:x:none> ?b . ?c <urn:x:none> ?d }"


@pytest.fixture
def store(sample_dist: Path) -> Iterator[OxigraphStore]:
    opened = OxigraphStore.from_settings(Settings(dist=sample_dist, query_workers=1))
    opened.evaluate_in_process(lambda: None)
    yield opened
    opened.close()


def _ask(store: OxigraphStore, query: str) -> bytes:
    return store.query(query, DatasetSpec(), MEDIA_JSON, 10.0).body


def test_a_connected_query_needs_no_killable_process(store: OxigraphStore) -> None:
    _ask(store, CONNECTED)
    assert not store.pool.started


def test_patterns_that_fall_apart_go_to_a_killable_process(store: OxigraphStore) -> None:
    _ask(store, DISCONNECTED)
    assert store.pool.started


def test_a_query_remembered_as_long_goes_to_a_killable_process(store: OxigraphStore) -> None:
    store.isolated_shapes.remember(plan_query(CONNECTED).shape)
    _ask(store, CONNECTED)
    assert store.pool.started


def test_a_remembered_query_that_runs_fast_comes_back(store: OxigraphStore) -> None:
    shape = plan_query(CONNECTED).shape
    store.isolated_shapes.remember(shape)
    _ask(store, CONNECTED)
    assert shape not in store.isolated_shapes


def test_both_places_give_the_same_answer(store: OxigraphStore) -> None:
    here = _ask(store, CONNECTED)
    store.isolated_shapes.remember(plan_query(CONNECTED).shape)
    assert _ask(store, CONNECTED + " # isolated") == here

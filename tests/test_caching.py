"""HTTP caching: ETags from dataset version + request, 304 on If-None-Match, Cache-Control, and
the in-process result cache bounded in bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from server import create_app
from server.protocol.cache import ResultCache, etag_matches, request_key
from server.stores.store import QueryResult

# One shared server for all endpoint test modules (the plugin's session fixtures).
pytest_plugins = ("tests.server_fixtures",)

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/dcdr/ontology#Agency> }"


def test_etag_and_304(sparql_url: str) -> None:
    first = requests.get(sparql_url, params={"query": QUERY}, timeout=10)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = requests.get(sparql_url, params={"query": QUERY}, timeout=10)
    assert again.headers["ETag"] == etag
    cached = requests.get(
        sparql_url, params={"query": QUERY}, headers={"If-None-Match": etag}, timeout=10
    )
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == etag
    stale = requests.get(
        sparql_url, params={"query": QUERY}, headers={"If-None-Match": '"other"'}, timeout=10
    )
    assert stale.status_code == 200
    assert stale.content == first.content


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"query": QUERY + " LIMIT 2"}, {}),
        ({"query": QUERY}, {"Accept": "text/csv"}),
        ({"query": QUERY, "default-graph-uri": "https://w3id.org/dcdr/graph/facts"}, {}),
        ({"query": QUERY, "named-graph-uri": "https://w3id.org/dcdr/graph/facts"}, {}),
    ],
)
def test_etag_changes_with_the_request(
    sparql_url: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    base = requests.get(sparql_url, params={"query": QUERY}, timeout=10).headers["ETag"]
    other = requests.get(sparql_url, params=params, headers=headers, timeout=10)
    assert other.status_code == 200
    assert other.headers["ETag"] != base


def test_post_and_get_share_the_etag(sparql_url: str) -> None:
    got = requests.get(sparql_url, params={"query": QUERY}, timeout=10)
    posted = requests.post(sparql_url, data={"query": QUERY}, timeout=10)
    assert posted.headers["ETag"] == got.headers["ETag"]


def test_errors_carry_no_etag(sparql_url: str) -> None:
    response = requests.get(sparql_url, params={"query": "SELECT"}, timeout=10)
    assert response.status_code == 400
    assert "ETag" not in response.headers


def _result(size: int) -> QueryResult:
    return QueryResult(body=b"x" * size, media_type="application/sparql-results+json")


def test_cache_is_bounded_in_bytes_and_evicts_least_recent() -> None:
    cache = ResultCache(max_bytes=8000)
    for name in "abcd":
        cache.put(name, _result(1000))
    assert cache.get("a") is not None  # a is now the most recent
    for name in "efg":
        cache.put(name, _result(1000))
    assert cache.size <= 8000
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("g") is not None


def test_cache_skips_answers_too_large_to_keep() -> None:
    cache = ResultCache(max_bytes=8000)
    cache.put("big", _result(4000))
    assert cache.get("big") is None
    assert len(cache) == 0


def test_etag_matching_rules() -> None:
    key = request_key("v1", QUERY, (), "application/sparql-results+json")
    assert key != request_key("v2", QUERY, (), "application/sparql-results+json")
    assert etag_matches(f'"{key}"', key)
    assert etag_matches(f'W/"{key}"', key)
    assert etag_matches(f'"nope", "{key}"', key)
    assert etag_matches("*", key)
    assert not etag_matches('"nope"', key)
    assert not etag_matches(None, key)


@pytest.fixture
def app(sample_dist: Path) -> Iterator[Flask]:
    application = create_app({"dist": sample_dist, "access_log": False, "threads": 1})
    yield application
    application.extensions["dcdr"].store.close()


def test_repeated_query_is_answered_from_the_cache(app: Flask) -> None:
    client = app.test_client()
    cache = app.extensions["dcdr"].cache
    first = client.get("/sparql", query_string={"query": QUERY})
    second = client.get("/sparql", query_string={"query": QUERY})
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert cache.hits == 1
    assert cache.misses == 1


@pytest.fixture(scope="module")
def replica(pages_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A second app over a copy of the same build in another folder, with other file times."""
    import shutil
    import time

    from tests import pages_fixtures as fx

    time.sleep(1.1)  # file times of the copy differ from the original's by at least a second
    copy = tmp_path_factory.mktemp("replica") / "dist"
    shutil.copytree(pages_app.extensions["dcdr"].settings.dist, copy)
    app = fx.make_app(copy)
    yield app
    fx.close_app(app)


CACHED_PATHS = [
    "/",
    "/search?q=court",
    "/id/agency/supreme-peoples-court",
    "/id/agency/supreme-peoples-court?format=ttl",
    "/ontology",
    "/void.ttl",
    "/dumps/dcdr.nq",
    "/dumps/void.ttl",
]


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_pages_had_no_validators(pages_app: Flask, path: str) -> None:
    """/id/…, / and /search had no ETag or Cache-Control; each now has both, and a client
    holding the ETag gets a 304."""
    client = pages_app.test_client()
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers.get("ETag", '"none"')})
    assert (
        first.status_code,
        first.headers.get("Cache-Control", "").startswith("public, max-age="),
        again.status_code,
    ) == (200, True, 304)


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_replicas_disagreed_on_etags(pages_app: Flask, replica: Flask, path: str) -> None:
    """The dumps' ETag was made of path and file time, so two replicas of one build gave
    different ETags; every ETag is now derived from the build's content."""
    assert (
        pages_app.test_client().get(path).headers["ETag"]
        == (replica.test_client().get(path).headers["ETag"])
    )


def test_dump_etag_is_its_sha256(pages_app: Flask) -> None:
    folder = pages_app.extensions["dcdr"].settings.dist
    listed = dict(
        reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    etag = pages_app.test_client().get("/dumps/dcdr.nq").headers["ETag"]
    assert etag == f'"{listed["dcdr.nq"]}"'

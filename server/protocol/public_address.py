"""The dataset's description states the address a request reached: the root the build wrote
(asked of the store once per version) is rewritten, after each request, into the one the server
is reached at (`server.public_base`).
"""

from __future__ import annotations

from flask import Response, current_app, request

from graph.namespaces import DATASET_IRI, VOID
from server.protocol.cache import CACHEABLE
from server.protocol.metrics import unmetered
from server.public_base import configured_root, localized, localized_etag, public_root
from server.stores.store import QueryStore, StoreError, select

# Blueprints whose answers never state the dataset's description: the probes and /metrics,
# which must answer without asking the store (/healthz while the store is down too).
_UNDESCRIBED = frozenset({"health", "metrics"})

# The root the build wrote into the `meta` graph (`dcdr build`'s public base), per dataset
# version: asked of the store once.
_BUILT_ROOTS: dict[str, str] = {}


def built_root(store: QueryStore) -> str:
    """The root of the endpoint and dump IRIs stored in the dataset's description ("" when it
    states no endpoint)."""
    store = unmetered(store)
    try:
        version = store.version
    except StoreError:
        return ""  # a remote store not reached yet: asked again with the next answer
    if version not in _BUILT_ROOTS:
        try:
            rows = select(
                store, f"SELECT ?e WHERE {{ <{DATASET_IRI}> <{VOID.sparqlEndpoint}> ?e }} LIMIT 1"
            )
        except StoreError:
            return ""  # asked again with the next answer; this one goes out as it is

        endpoint = str(rows[0]["e"]) if rows else ""
        _BUILT_ROOTS[version] = endpoint[: -len("sparql")] if endpoint.endswith("/sparql") else ""
    return _BUILT_ROOTS[version]


def localize_response(response: Response) -> Response:
    """After each request: the dataset's description states the address this request reached
    (pages, dumps, query answers alike), so that its links work on any host and port."""
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return response
    if request.blueprint in _UNDESCRIBED:
        return response
    service = current_app.extensions.get("dcdr")
    if service is None:
        return response
    actual = public_root(service.settings)
    body = localized(response.get_data(), built_root(service.store), actual)
    if body is None:
        return response
    response.set_data(body)
    etag = response.headers.get("ETag")
    if etag:
        response.headers["ETag"] = localized_etag(etag, actual)
        # The endpoint compared If-None-Match with the unlocalized ETag: compare again.
        response.make_conditional(request)
    if not configured_root(service.settings):
        # The answer now depends on the Host header: the server must not replay it to others.
        request.environ.pop(CACHEABLE, None)
        response.vary.add("Host")
    return response

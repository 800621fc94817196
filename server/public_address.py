"""The address the server is reached at: the operator's `public_base` setting, or else the
request's own origin (scheme, host and the app's root path).

Both the base IRI of queries and the links the dataset's description states about the server
(its endpoint, its dumps, its VoID) start from here, so that they agree in every answer.
"""

from __future__ import annotations

import hashlib

from flask import Response, current_app, request

from graph.namespaces import DATASET_IRI, VOID
from server.cache import CACHEABLE
from server.config import Settings
from server.store import QueryStore, StoreError, select


def public_root(settings: Settings) -> str:
    """`https://host/` (ending in "/") under which this server's paths are reached."""
    if settings.public_base:
        return settings.public_base.rstrip("/") + "/"
    return request.url_root


def configured_root(settings: Settings) -> str:
    """The root when it does not depend on the request (the setting), else ""."""
    return settings.public_base.rstrip("/") + "/" if settings.public_base else ""


def endpoint_iri(root: str) -> str:
    """The SPARQL endpoint's IRI below `root`: the base IRI of the queries it answers."""
    return root + "sparql"


# The root the build wrote into the `meta` graph (`dcdr build`'s public base), per dataset
# version: asked of the store once.
_BUILT_ROOTS: dict[str, str] = {}


def built_root(store: QueryStore) -> str:
    """The root of the endpoint and dump IRIs stored in the dataset's description ("" when it
    states no endpoint)."""
    version = store.version
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


def localized(body: bytes, built: str, actual: str) -> bytes | None:
    """`body` with the build's root replaced by the one the server is reached at, or None
    when it holds nothing to replace.

    Rewriting bytes rather than the stored graph keeps `dist/` deterministic and its hashes
    the same on every replica; an IRI is written out whole in every format the server writes
    (no prefix is bound to the server's own address), so the bytes of the root are exactly the
    IRIs that start with it."""
    if not built or built == actual:
        return None
    needle = built.encode("utf-8")
    if needle not in body:
        return None
    return body.replace(needle, actual.encode("utf-8"))


def localized_etag(etag: str, actual: str) -> str:
    """A rewritten answer's ETag: the content's, and the address written into it."""
    digest = hashlib.blake2b(actual.encode("utf-8"), digest_size=4).hexdigest()
    return f'"{etag.removeprefix("W/").strip(chr(34))}-{digest}"'


def localize_response(response: Response) -> Response:
    """After each request: the dataset's description states the address this request reached
    (pages, dumps, query answers alike), so that its links work on any host and port."""
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
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

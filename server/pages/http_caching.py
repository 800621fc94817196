"""Validators and lifetimes for the pages, the VoID and the dumps (the endpoint sets its own).

A page is a function of the build and the request, so its ETag is a digest of the build's
version (the hash of its SHA256SUMS) and the bytes answered: the same on every replica serving
the same build, whatever its path or file times. A client that holds it gets a 304.
"""

from __future__ import annotations

import hashlib

from flask import Response, current_app, request

# Blueprints whose answers get validators here; `sparql` computes its ETags before it runs the
# query, so that a 304 costs no query.
_BLUEPRINTS = frozenset({"pages", "void", "dumps", "figures", "report", "cite"})


def content_etag(version: str, body: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(version.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(body)
    return digest.hexdigest()


def add_validators(response: Response) -> Response:
    """After each request (after the address is written in): ETag, Cache-Control, and 304 when
    the client's If-None-Match names the ETag."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if request.blueprint not in _BLUEPRINTS:
        return response
    service = current_app.extensions.get("dcdr")
    if service is None:
        return response
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = f"public, max-age={service.settings.max_age}"
    if response.direct_passthrough or response.is_streamed:
        return response  # a file: send_file made its own validators and 304
    if "ETag" not in response.headers:
        response.set_etag(content_etag(service.store.version, response.get_data()))
    response.make_conditional(request)
    return response

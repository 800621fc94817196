"""The address the server is reached at: the operator's `public_base` setting, or else the
request's own origin (scheme, host and the app's root path), and the rewriting of answers from
the build's root to it.

Both the base IRI of queries and the links the dataset's description states about the server
(its endpoint, its dumps, its VoID) start from here, so that they agree in every answer. A base
module, since the pages and the protocol both need it; what asks the store or touches the
protocol's cache is in `server.protocol.public_address`.
"""

from __future__ import annotations

import hashlib

from flask import request

from server.config import Settings


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

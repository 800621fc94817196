"""The address the server is reached at: the operator's `public_base` setting, or else the
request's own origin (scheme, host and the app's root path).

Both the base IRI of queries and the links the dataset's description states about the server
(its endpoint, its dumps, its VoID) start from here, so that they agree in every answer.
"""

from __future__ import annotations

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

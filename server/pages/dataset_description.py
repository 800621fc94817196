"""The dataset's VoID description where clients look for it (the `void` blueprint).

VoID §6.2 (https://www.w3.org/TR/void/#well-known) names `/.well-known/void` as the place a
site's VoID description is found; the service description's `rdfs:seeAlso` names it and
`/void.ttl`. Both answer the build's `void.ttl` (the `meta` graph and the report it describes);
a remote store with no `dist/` beside it answers its `meta` graph instead.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app
from flask.typing import ResponseReturnValue

from graph.dumps import SUMS_FILE
from server.stores.oxigraph_store import DistError, read_sums

bp = Blueprint("void", __name__)

VOID_FILE = "void.ttl"
TURTLE = "text/turtle"


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of each dump as the build listed it in SHA256SUMS (what every replica agrees
    on, unlike a file's path or time); empty when the folder has no such list."""
    path = folder / SUMS_FILE
    try:
        return {name: digest for digest, name in read_sums(path, path.read_text("utf-8"))}
    except (OSError, DistError):
        return {}  # a remote store's deployment, or a build the server would not start on


def void_turtle() -> tuple[bytes, str]:
    """The VoID document and a digest of its content."""
    from server.pages import resources

    settings = current_app.extensions["dcdr"].settings
    folder = Path(settings.dist)
    path = folder / VOID_FILE
    if path.is_file():
        return path.read_bytes(), file_digests(folder).get(VOID_FILE, "")
    graph = resources.named_graph("meta")
    return graph.serialize(format="turtle", encoding="utf-8"), ""


@bp.route("/.well-known/void")
@bp.route("/void.ttl")
def void() -> ResponseReturnValue:
    body, _ = void_turtle()
    return Response(body, content_type=f"{TURTLE}; charset=utf-8")

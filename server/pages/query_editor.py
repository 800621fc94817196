"""YASGUI at /sparql, served from the app's own origin (the `editor` blueprint).

`make editor` installs `@zazuko/yasgui` with npm (pinned by `editor/package-lock.json`) into
the git-ignored `editor/node_modules/`; this module serves its built script and style sheet
and nothing else of that folder. When the folder is missing (no npm on the machine) the page
offers only its plain form, which is also what a browser without JavaScript uses.

Nothing the editor loads may come from another host. YASGUI 4.6 ships its prefix list in the
bundle and fetches prefix.cc only when `prefixCcApi` is set: it is pointed at this app's own
`/assets/editor/prefixes.json`. Its class and property autocompleters ask Linked Open
Vocabularies (lov.linkeddata.es), so they are left out (`static/query-editor.js`); its style
sheet names no fonts or images. tests/browser/test_query_editor_browser.py records every
request the page makes and fails on any that leaves 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, send_from_directory, url_for
from flask.typing import ResponseReturnValue

from graph.namespaces import QUERY_PREFIXES

from . import i18n

EDITOR_DIR = Path(__file__).resolve().parent / "editor"
BUILD_DIR = EDITOR_DIR / "node_modules" / "@zazuko" / "yasgui" / "build"
# The only files of the npm folder the app serves.
FILES = ("yasgui.min.js", "yasgui.min.css")

bp = Blueprint("editor", __name__)


def editor_available(build_dir: Path | None = None) -> bool:
    """Whether `make editor` installed YASGUI (else /sparql offers its plain form only)."""
    folder = build_dir or current_app.config.get("DCDR_EDITOR_DIR", BUILD_DIR)
    return all((Path(folder) / name).is_file() for name in FILES)


@bp.route("/assets/editor/<name>")
def editor_file(name: str) -> ResponseReturnValue:
    if name not in FILES or not editor_available():
        abort(404, description=f"no editor file {name!r} (install the editor with `make editor`)")
    folder = Path(current_app.config.get("DCDR_EDITOR_DIR", BUILD_DIR))
    max_age = current_app.extensions["dcdr"].settings.max_age
    return send_from_directory(folder, name, max_age=max_age)


@bp.route("/assets/editor/prefixes.json")
def prefixes() -> Response:
    """The prefixes YASQE completes after PREFIX, in prefix.cc's JSON shape: the ones every
    query may use without declaring them (graph/namespaces.py's QUERY_PREFIXES)."""
    return jsonify(dict(sorted(QUERY_PREFIXES.items())))


@dataclass(frozen=True)
class ReadyQuery:
    """One example query as the editor offers it."""

    name: str
    title: str
    query: str


def editor_config(
    endpoint: str, examples: list[ReadyQuery], lang: str, query: str
) -> dict[str, Any] | None:
    """What `static/query-editor.js` needs, or None when the editor is not installed."""
    if not editor_available():
        return None
    return {
        "endpoint": endpoint,
        "prefixesUrl": url_for("editor.prefixes"),
        "prefixes": dict(sorted(QUERY_PREFIXES.items())),
        "lang": lang,
        "query": query,
        "tabName": i18n.translate("query.title", lang),
        "viewLabel": i18n.translate("query.view_label", lang),
        "examples": [
            {"name": ready.name, "title": ready.title, "query": ready.query} for ready in examples
        ],
    }

"""`/dumps/`: the files of the build the server answers from, with sizes and SHA-256 sums; an
HTML page for browsers, JSON for `Accept: application/json` or `?format=json`."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from graph import paths
from graph.dumps import SUMS_FILE
from server.pages.dataset_description import file_digests

bp = Blueprint("dumps", __name__, template_folder="templates")

# The files of dist/ offered for download; nothing else in that folder is served.
DUMP_FILES = ("dcdr.trig", "dcdr.nq", "dcdr.ttl", "dcdr.jsonld", "void.ttl", SUMS_FILE)
DUMP_TYPES = {
    "dcdr.trig": "application/trig",
    "dcdr.nq": "application/n-quads",
    "dcdr.ttl": "text/turtle",
    "dcdr.jsonld": "application/ld+json",
    "void.ttl": "text/turtle",
    SUMS_FILE: "text/plain",
}


def dist_folder() -> Path:
    """The build output the app serves (from its config when set)."""
    settings = getattr(current_app.extensions.get("dcdr"), "settings", None)
    configured = getattr(settings, "dist", None)
    return Path(configured) if configured else paths.dist_dir()


@dataclass(frozen=True)
class DumpFile:
    name: str
    href: str
    media_type: str
    bytes: int
    size: str
    sha256: str


def human_size(size: int) -> str:
    """1,307,968 → `1.2 MiB`."""
    if size < 1024:
        return f"{size:,} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def _downloads() -> list[tuple[str, str, str]]:
    """(file name, where it is served, media type) of every file of dist/ offered."""
    offered = [(name, url_for("pages.dump", name=name), DUMP_TYPES[name]) for name in DUMP_FILES]
    # The figures tables are served by /figures (figures_pages) under their own names.
    for table in ("figures.csv", "figures-zh.csv"):
        offered.append((table, url_for("figures.figures_csv", name=table), "text/csv"))
        offered.append(
            (
                f"{table}-metadata.json",
                url_for("figures.csv_metadata", name=table),
                "application/csvm+json",
            )
        )
    return offered


def dump_files() -> list[DumpFile]:
    """The downloadable files of dist/ that exist, in the usual order."""
    folder = dist_folder()
    # The server checked these sums against the files when it started.
    sums = file_digests(folder)
    found = []
    for name, href, media in _downloads():
        path = folder / name
        if not path.is_file():
            continue
        size = path.stat().st_size
        found.append(
            DumpFile(
                name=name,
                href=href,
                media_type=media,
                bytes=size,
                size=human_size(size),
                # SHA256SUMS lists every file but itself.
                sha256=sums.get(name) or hashlib.sha256(path.read_bytes()).hexdigest(),
            )
        )
    return found


@bp.route("/dumps/")
def dumps() -> ResponseReturnValue:
    """The list of dumps."""
    asked = request.args.get("format")
    if asked not in (None, "html", "json"):
        abort(400, description=f"unknown format {asked!r}; use html or json")
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    wants_json = asked == "json" or (asked is None and best == "application/json")
    files = dump_files()
    if wants_json:
        response = jsonify({"files": [asdict(item) for item in files]})
    else:
        response = Response(render_template("dumps.html", files=files), mimetype="text/html")
    response.vary.add("Accept")
    return response

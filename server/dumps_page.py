"""`/dumps/`: the files of the build the server answers from, with sizes and SHA-256 sums; an
HTML page for browsers, JSON for `Accept: application/json` or `?format=json`."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .pages import DUMP_FILES, DUMP_TYPES, dist_folder

bp = Blueprint("dumps", __name__, template_folder="templates")

SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class DumpFile:
    name: str
    href: str
    media_type: str
    bytes: int
    size: str
    sha256: str


def recorded_sums(folder: Path) -> dict[str, str]:
    """name → SHA-256 as the build wrote them in SHA256SUMS (`<hex>  <name>` lines)."""
    path = folder / SUMS
    if not path.is_file():
        return {}
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            sums[name.strip()] = digest.strip()
    return sums


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
    sums = recorded_sums(folder)
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

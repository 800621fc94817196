"""Structured access log: one JSON object per request on the `dcdr.access` logger (stderr).

It carries a hash of the query, not its text, unless the operator asks for the text: queries
can hold whatever a user typed, and the hash is enough to group and count them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("dcdr.access")


def query_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def note_query(text: str, include_text: bool) -> None:
    """Called by the endpoint once it knows the query of the request."""
    g.dcdr_query_hash = query_hash(text)
    if include_text:
        g.dcdr_query_text = text


def _start() -> None:
    g.dcdr_started = time.perf_counter()


def _record(response: Response) -> Response:
    started = g.get("dcdr_started")
    entry: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        "bytes": response.calculate_content_length(),
    }
    if g.get("dcdr_query_hash"):
        entry["query_hash"] = g.dcdr_query_hash
    if g.get("dcdr_query_text"):
        entry["query"] = g.dcdr_query_text
    if g.get("dcdr_cache"):
        entry["cache"] = g.dcdr_cache
    logger.info(json.dumps(entry, ensure_ascii=False))
    return response


def log_outside_the_app(
    method: str,
    path: str,
    status: int,
    started: float,
    size: int,
    fields: dict[str, str],
    cache: str,
) -> None:
    """The same entry as `_record`, for the answers the server gives without the app (replays,
    direct GETs, timeouts; server/serving.py). `started` is a `time.perf_counter()` value."""
    if not logger.isEnabledFor(logging.INFO):
        return
    entry: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "bytes": size,
        **fields,
    }
    if cache:
        entry["cache"] = cache
    logger.info(json.dumps(entry, ensure_ascii=False))


def register(app: Flask, enabled: bool = True) -> None:
    if not enabled:
        return
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request(_start)
    app.after_request(_record)

"""Structured access log: one JSON object per request on the `dcdr.access` logger (stderr).

It carries a hash of the query, not its text, unless the operator asks for the text: queries
can hold whatever a user typed, and the hash is enough to group and count them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from flask import Flask, Response, g, request

from server.structured_log import lines_to_stderr, query_hash

logger = logging.getLogger("dcdr.access")
# Where the bridge (server/front/serving.py) leaves the `time.perf_counter()` of a request's
# arrival for the app, whose access log then gives the request's whole duration (a query the
# direct path ran into its time limit reaches the app only afterwards).
REQUEST_STARTED = "dcdr.request_started"


def note_query(text: str, include_text: bool) -> None:
    """Called by the endpoint once it knows the query of the request."""
    g.dcdr_query_hash = query_hash(text)
    if include_text:
        g.dcdr_query_text = text


def _start() -> None:
    g.dcdr_started = request.environ.get(REQUEST_STARTED) or time.perf_counter()


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


# What the log keeps of an answer given outside the app until it writes the entry: the wall
# clock time, method, path, status, milliseconds taken, body bytes, the request's log fields
# (query_hash, query) and the cache outcome ("hit" or "").
Outside = tuple[float, str, str, int, float, int, dict[str, str], str]


def outside_entry(answer: Outside) -> str:
    """The same entry as `_record` writes, for an answer the server gave without the app."""
    at, method, path, status, milliseconds, size, fields, cache = answer
    entry: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(at)),
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(milliseconds, 2),
        "bytes": size,
        **fields,
    }
    if cache:
        entry["cache"] = cache
    return json.dumps(entry, ensure_ascii=False)


class LoopBatchedLog:
    """The access log of the answers given on an event loop (replays, direct GETs, timeouts;
    server/front/serving.py), written in batches.

    Writing is a system call during which the app's threads take the GIL, and the loop then
    waits to get it back: one entry written per answer cost the loop about a tenth of a direct
    answer's time (docs/performance.md), and formatting it amid the answers a few percent. As
    nginx's `access_log … buffer= flush=`, answers are noted until `max_entries` have gathered
    or the oldest is `max_delay` seconds old, then written as one record of one JSON line
    each, in order; `flush()` writes what is left (the bridge calls it when its worker stops).
    Called on the loop only.
    """

    def __init__(self, max_delay: float = 0.2, max_entries: int = 512) -> None:
        self.max_delay = max_delay
        self.max_entries = max_entries
        self._answers: list[Outside] = []

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        started: float,
        size: int,
        fields: dict[str, str],
        cache: str,
    ) -> None:
        """Notes one answer; `started` is the `time.perf_counter()` of its request."""
        milliseconds = (time.perf_counter() - started) * 1000
        if not logger.isEnabledFor(logging.INFO):
            return
        if not self._answers:
            asyncio.get_running_loop().call_later(self.max_delay, self.flush)
        self._answers.append((time.time(), method, path, status, milliseconds, size, fields, cache))
        if len(self._answers) >= self.max_entries:
            self.flush()

    def flush(self) -> None:
        answers, self._answers = self._answers, []
        if answers:
            logger.info("\n".join(map(outside_entry, answers)))


def register(app: Flask, enabled: bool = True) -> None:
    if not enabled:
        return
    lines_to_stderr(logger)
    app.before_request(_start)
    app.after_request(_record)

"""The server's own events as JSON lines on stderr (the `dcdr.events` logger): one at start
(settings, versions, store), one at stop, one per failed query with its reason, one per slow
query.

Apart from the access log (server/accesslog.py, one line per request, which an operator may turn
off): these lines are few and are what an operator searches when something went wrong. A failed
query's `reason` tells apart a query stopped at its time limit (`timeout`), a store that could
not be reached or broke off (`store_unavailable`) and a store that answered with an error
(`store_error`); `duration_ms` is the time the query really took, measured around the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from server.config import Settings

logger = logging.getLogger("dcdr.events")

TIMEOUT = "timeout"
STORE_UNAVAILABLE = "store_unavailable"
STORE_ERROR = "store_error"


def lines_to_stderr(target: logging.Logger) -> logging.Logger:
    """Has `target` write its messages as they are, one per line, on stderr (once)."""
    if not target.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        target.addHandler(handler)
        target.setLevel(logging.INFO)
        target.propagate = False
    return target


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Writes one JSON line: the UTC time, the event's name, this process and `fields`."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    entry = {"time": stamp, "event": name, "pid": os.getpid(), **fields}
    lines_to_stderr(logger).log(level, json.dumps(entry, ensure_ascii=False, default=str))


def describe_store(setting: str) -> str:
    """The store setting without any user or password its URL may carry."""
    if not setting.startswith("sparql:"):
        return setting
    url = setting.removeprefix("sparql:")
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return setting
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return "sparql:" + urlunsplit(parts._replace(netloc=netloc))


def software_version() -> str:
    try:
        return metadata.version("dcdr-kg")
    except metadata.PackageNotFoundError:
        return "unknown"


def settings_fields(settings: Settings) -> dict[str, Any]:
    """Every setting, as JSON values, with the store's credentials left out."""
    fields: dict[str, Any] = {}
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        fields[item.name] = value
    fields["store"] = describe_store(settings.store)
    return fields


def log_start(settings: Settings, graph_version: str | None, **extra: Any) -> None:
    event(
        "start",
        software_version=software_version(),
        graph_version=graph_version,
        store=describe_store(settings.store),
        settings=settings_fields(settings),
        **extra,
    )


def log_stop(started: float, exit_code: int) -> None:
    """`started` is the `time.monotonic()` of the start line."""
    event("stop", uptime_s=round(time.monotonic() - started, 3), exit_code=exit_code)


def log_query_failed(
    reason: str, message: str, seconds: float, limit: float, query: str, include_text: bool
) -> None:
    """One failed query: `seconds` it really ran, its time `limit`, its hash (text if asked)."""
    fields = _query_fields(seconds, limit, query, include_text)
    event("query_failed", logging.WARNING, reason=reason, message=message, **fields)


def query_hash(text: str) -> str:
    """What the logs carry of a query unless the operator asks for its text: a hash, enough to
    group and count queries that may hold whatever a user typed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def log_slow_query(seconds: float, limit: float, query: str, include_text: bool) -> None:
    """A query the store answered, but slowly (in at least `slow_query_seconds`)."""
    event("slow_query", logging.WARNING, **_query_fields(seconds, limit, query, include_text))


def _query_fields(seconds: float, limit: float, query: str, include_text: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "duration_ms": round(seconds * 1000, 2),
        "timeout_s": limit,
        "query_hash": query_hash(query),
    }
    if include_text:
        fields["query"] = query
    return fields

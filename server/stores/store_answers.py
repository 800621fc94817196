"""Answers a remote store gave up on, told apart from whole answers.

Both stores the recipes run can say "200 OK" and still not answer the query (measured here):

- Virtuoso 7.2.5, given its `timeout` parameter, answers `200` with whatever rows it had when
  the time ran out ("anytime" results: a `COUNT(*)` of a cartesian product came back as
  2,516,000) and says so only in the headers `X-SQL-State: S1TAT` and `X-SQL-Message:
  … query interrupted by result timeout`. When rows were already streaming it answers `500`
  with the rows written so far and the error at the very end of the body.
- Oxigraph server 0.5 started with `--timeout-s` streams its answer and, when the time runs
  out, writes `The SPARQL operation has been cancelled` into the body and closes it: a `200`
  whose JSON does not parse, or a CSV whose last "row" is that sentence.

So an answer is taken as whole only when the headers carry no SQL state and the body parses to
its end; a broken answer is a `QueryTimeout` when its end says the time ran out, otherwise a
`StoreFailed`, never a result.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox

from server.stores.row_cap import Readable
from server.stores.store import QueryTimeout, StoreError, StoreFailed

# Virtuoso's header naming the SQL state of an answer it did not finish.
SQL_STATE = "X-SQL-State"
SQL_MESSAGE = "X-SQL-Message"
# Virtuoso: "RC...: Returning incomplete results, query interrupted by result timeout".
_TIMEOUT_STATES = frozenset({"S1TAT"})
# The end of an answer that ran out of time: Oxigraph's sentence, Virtuoso's state and words.
_RAN_OUT = re.compile(
    rb"operation has been cancelled|S1TAT|SR171|time ?out|timed out", re.IGNORECASE
)
_OXIGRAPH_CANCELLED = b"The SPARQL operation has been cancelled"
_TAIL = 2048
# A failed answer is read this far for its end (Virtuoso puts the error after the rows).
_ERROR_READ_LIMIT = 64 << 20
_EXCERPT = 300


def raise_if_interrupted(headers: Mapping[str, str], timeout: float) -> None:
    """Raises when the store's headers say the answer that follows is not the whole answer."""
    state = headers.get(SQL_STATE)
    if not state:
        return
    message = headers.get(SQL_MESSAGE, "")[:_EXCERPT]
    if state.strip() in _TIMEOUT_STATES:
        raise QueryTimeout(f"query ran past {timeout:g} s on the remote store ({message.strip()})")
    raise StoreFailed(f"the remote store answered with SQL state {state}: {message}")


def broken_answer(tail: bytes, timeout: float, what: str) -> StoreError:
    """The error for an answer that stopped short; `tail` is the end of what arrived."""
    if _RAN_OUT.search(tail):
        return QueryTimeout(f"query ran past {timeout:g} s on the remote store")
    excerpt = tail[-_EXCERPT:].decode("utf-8", "replace").strip()
    return StoreFailed(f"the remote store sent an unreadable {what}, ending: {excerpt}")


def check_complete(body: bytes, media_type: str, timeout: float) -> None:
    """Raises unless `body` is a whole answer in `media_type` (parsed to its end)."""
    tail = body[-_TAIL:]
    if media_type in ("text/csv", "text/tab-separated-values") and _ends_cancelled(tail):
        # A CSV line of plain words parses as a row; Oxigraph's sentence is the last one.
        raise QueryTimeout(f"query ran past {timeout:g} s on the remote store")
    try:
        results = ox.QueryResultsFormat.from_media_type(media_type)
        if results == ox.QueryResultsFormat.CSV:
            return  # pyoxigraph cannot read CSV results back; its end was checked above
        if results is not None:
            parsed = ox.parse_query_results(body, results)
            if isinstance(parsed, ox.QuerySolutions):
                for _ in parsed:
                    pass
            return
        rdf = ox.RdfFormat.from_media_type(media_type)
        if rdf is not None:
            for _ in ox.parse(body, rdf):
                pass
    except (SyntaxError, ValueError):
        raise broken_answer(tail, timeout, media_type) from None


def _ends_cancelled(tail: bytes) -> bool:
    return tail.rstrip().rsplit(b"\n", 1)[-1].strip() == _OXIGRAPH_CANCELLED


def error_excerpt(raw: Readable, deadline: float) -> bytes:
    """The beginning and the end of a failed answer's body (read up to the deadline and a
    bounded size), so that an error written after streamed rows is seen."""
    head = raw.read(_EXCERPT)
    tail = b""
    read = len(head)
    while read < _ERROR_READ_LIMIT and time.monotonic() < deadline:
        chunk = raw.read(1 << 16)
        if not chunk:
            break
        read += len(chunk)
        tail = (tail + chunk)[-_EXCERPT:]
    return head + (b" ... " + tail if tail else b"")


class TailKeeper(io.RawIOBase):
    """Passes a body on and keeps its last bytes, to say why a parse stopped."""

    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__()
        self._raw = raw
        self.tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self.tail = (self.tail + bytes(buffer[:count]))[-_TAIL:]
        return count or 0

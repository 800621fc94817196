"""The server's row cap, applied by reading no more solutions than it needs.

A query's text is never changed (an appended `LIMIT` would move every error position the parser
reports). Instead the first `limit + 1` solutions are read from the store's lazy iterator, or
from the remote store's streamed answer, and evaluation stops there: a cartesian product of a
billion rows costs what its first ten thousand cost. The extra row tells an answer cut at the
cap from one that fits it exactly.

pyoxigraph serializes only whole result iterators, so the rows kept are written as SPARQL TSV
(lossless: every term in its N-Triples form, RDF-star included) and re-serialized by pyoxigraph
into the format asked for.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from itertools import islice
from typing import IO, Any, Protocol

import pyoxigraph as ox
from urllib3.exceptions import HTTPError, ReadTimeoutError

TSV = ox.QueryResultsFormat.TSV


def capped_solutions(
    solutions: ox.QuerySolutions, results_format: ox.QueryResultsFormat, limit: int
) -> tuple[bytes, int, bool]:
    """The first `limit` solutions serialized, how many there are, and whether more existed."""
    variables = solutions.variables
    rows = list(islice(solutions, limit + 1))
    truncated = len(rows) > limit
    del rows[limit:]
    body = _serialize(variables, rows, results_format)
    return body, len(rows), truncated


def _serialize(
    variables: list[ox.Variable],
    rows: Iterable[ox.QuerySolution],
    results_format: ox.QueryResultsFormat,
) -> bytes:
    lines = ["\t".join(str(variable) for variable in variables)]
    for row in rows:
        lines.append("\t".join("" if term is None else str(term) for term in row))
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    # Re-serialized even as TSV, so that the bytes are pyoxigraph's own (it abbreviates numbers).
    parsed = ox.parse_query_results(tsv, TSV)
    return bytes(parsed.serialize(format=results_format) or b"")


def capped_stream(
    stream: IO[bytes],
    answered: ox.QueryResultsFormat,
    wanted: ox.QueryResultsFormat,
    limit: int,
) -> tuple[bytes, int, bool]:
    """`capped_solutions` over a results document being received: parsed as it arrives and
    left unread after the row past the cap. A boolean (ASK) answer is re-serialized whole."""
    parsed = ox.parse_query_results(stream, answered)
    if isinstance(parsed, ox.QueryBoolean):
        return bytes(parsed.serialize(format=wanted) or b""), 1, False
    return capped_solutions(parsed, wanted, limit)


class Readable(Protocol):
    def read(self, amount: int, /) -> bytes: ...


class DeadlineReader(io.RawIOBase):
    """A response body read by pyoxigraph's parser, which may take no longer than `deadline`
    (time.monotonic) in all: the HTTP client's own timeout applies to each read alone. Its
    failures reach the parser as OSError (TimeoutError when late), which it passes on."""

    def __init__(self, raw: Readable, deadline: float) -> None:
        super().__init__()
        self._raw = raw
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if time.monotonic() > self._deadline:
            raise TimeoutError("the remote store's answer took longer than the query's limit")
        try:
            data = self._raw.read(len(buffer))
        except ReadTimeoutError as error:
            raise TimeoutError(str(error)) from None
        except (HTTPError, OSError) as error:
            raise OSError(f"the remote store broke off: {error}") from None
        buffer[: len(data)] = data
        return len(data)

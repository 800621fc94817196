"""Plain SPARQL GET requests answered without Flask.

Most requests an endpoint gets are `GET /sparql?query=…` with an Accept header; in the profile
of such requests Flask's request and response objects cost more than the query (docs/
performance.md). The server answers them here, from the same protocol checks
(`server.protocol.sparql.read_query_request`), the same caches and the same headers as the `sparql`
blueprint, and hands everything else to the app unchanged: browsers, POST, other parameters,
conditional requests, every refusal. A store error met here is handed over too
(`STORE_ERROR` in the environ), so that the one error handler answers it and the query does
not run twice. `tests/test_sparql_direct.py` checks that both paths give the same answers.
"""

from __future__ import annotations

import time
from _codecs import escape_decode
from dataclasses import dataclass
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException

from server import CORS_HEADERS
from server.protocol import negotiation
from server.protocol.public_address import built_root
from server.protocol.sparql import (
    FORMAT_PARAMETERS,
    ProtocolError,
    Service,
    answer_headers,
    answer_query,
    read_query_request,
)
from server.public_base import configured_root, endpoint_iri, localized, localized_etag
from server.stores.store import StoreError
from server.structured_log import query_hash

_PARAMETERS = frozenset({"query", "timeout", *FORMAT_PARAMETERS})


def read_query_string(text: str, max_fields: int) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, errors="strict")`, about ten times faster.

    Written here because the standard library decodes percent escapes in a Python loop, which
    for a query of a kilobyte costs more than some queries take to run. Each `%XX` becomes a
    `\\xXX` escape (every backslash doubled first) for the C escape decoder; text it cannot
    take this way (non-ASCII, a malformed escape) goes to `parse_qsl`, so the result is always
    the same. Raises ValueError as parse_qsl does (UnicodeDecodeError for text not UTF-8).
    """
    if not text.isascii():
        return _parse_qsl(text, max_fields)
    pieces = text.split("&")
    if len(pieces) > max_fields:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    try:
        for piece in pieces:
            if not piece:
                continue
            name, _, value = piece.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    except _NotFast:
        return _parse_qsl(text, max_fields)
    return pairs


class _NotFast(Exception):
    pass


def _unquote(text: str) -> str:
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    try:
        raw, _ = escape_decode(text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii"))
    except ValueError:  # "%" without two hex digits, which parse_qsl keeps as it is
        raise _NotFast from None
    return raw.decode("utf-8")


def _parse_qsl(text: str, max_fields: int) -> list[tuple[str, str]]:
    return parse_qsl(
        text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=max_fields
    )


@dataclass(slots=True)  # not frozen: made for every answer, and a frozen init costs more
class DirectAnswer:
    """A whole 200 answer, with what the access log says of it."""

    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    log_fields: dict[str, str]
    cache_hit: bool
    started: float


@dataclass(frozen=True)
class Declined:
    """The request is the app's to answer (with the store's error, if one was met here)."""

    store_error: StoreError | None = None


DECLINED = Declined()


class DirectGet:
    """Answers `GET /sparql` requests of the plain kind; see the module's docstring."""

    PATHS = frozenset({"/sparql", "/sparql/"})

    def __init__(self, service: Service) -> None:
        self.service = service

    def answer(self, query_string: str, accept: str) -> DirectAnswer | Declined:
        started = time.perf_counter()
        try:
            params = read_query_string(query_string, len(_PARAMETERS))
        except ValueError:  # UnicodeDecodeError included: the app words the refusal
            return DECLINED
        if not params or any(name not in _PARAMETERS for name, _ in params):
            return DECLINED
        asked_format = any(v not in ("", "html") for n, v in params if n in FORMAT_PARAMETERS)
        if negotiation.prefers_html_header(accept) and not asked_format:
            return DECLINED  # the query UI
        svc = self.service
        settings = svc.settings
        root = configured_root(settings)
        try:
            request = read_query_request(
                params, accept, settings, svc.store.version, endpoint_iri(root) if root else ""
            )
        except (ProtocolError, HTTPException):  # the version unknown too: the app answers
            return DECLINED
        if request is None:
            return DECLINED  # the service description
        if request.plan.relative_iris and not root:
            return DECLINED  # resolved against the request's origin, which the app knows
        try:
            result, cache_hit = answer_query(svc, request)
        except StoreError as error:
            return Declined(error)
        headers = answer_headers(result, request.key, settings)
        body, etag = result.body, request.key
        built = built_root(svc.store)
        if built and built.encode("utf-8") in body:
            if not root:
                return DECLINED  # the answer states the request's own origin (result cached)
            body = localized(body, built, root) or body
            etag = localized_etag(etag, root).strip('"')
            headers = [(n, f'"{etag}"' if n == "ETag" else v) for n, v in headers]
        headers += [("Content-Length", str(len(body))), *CORS_HEADERS]
        fields = {"query_hash": query_hash(request.query)}
        if settings.log_query_text:
            fields["query"] = request.query
        return DirectAnswer(headers, body, etag, fields, cache_hit, started)

"""The SPARQL 1.1 Protocol at /sparql (the `sparql` blueprint).

A request goes: read the parameters strictly (GET, form POST, direct POST) → refuse updates →
negotiate the media type → check the query (cached parse: no update, no SERVICE) → answer 304
when the client holds this answer's ETag → the in-process cache → the store.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qsl

import pyoxigraph
from flask import Blueprint, Response, abort, current_app, g, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.utils import get_content_type

from server import structured_log
from server.accesslog import note_query
from server.config import Settings
from server.protocol import negotiation
from server.protocol.cache import CACHEABLE, ResultCache, etag_matches, request_key
from server.protocol.service_description import ServiceDescriber
from server.public_base import configured_root, endpoint_iri, public_root
from server.stores.fairness import Ledger, client_address
from server.stores.store import (
    UPDATE_REFUSED,
    DatasetSpec,
    NotAcceptable,
    QueryPlan,
    QueryRefused,
    QueryResult,
    QueryStore,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreFailed,
    StoreUnavailable,
    UpdateRefused,
    analyze_query,
)
from server.stores.syntax_messages import OPAQUE_TOKENS

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
FORMAT_PARAMETERS = ("format", "output", "results")
UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")
TRUNCATED_HEADER = "X-DCDR-Result-Truncated"
ROW_LIMIT_HEADER = "X-DCDR-Row-Limit"
FAIRNESS = "dcdr_fairness"
# Where the server's direct GET path leaves a store error for the endpoint to answer.
STORE_ERROR = "dcdr.store_error"
# Deeper nesting overflows the stack of the query parsers (Oxigraph's kills its process).
MAX_NESTING = 100


@dataclass
class Service:
    """What `create_app` puts in `app.extensions["dcdr"]` (the pages use `.store`, `.settings`)."""

    store: QueryStore
    settings: Settings
    cache: ResultCache
    describer: ServiceDescriber


@bp.record_once
def _make_ledger(state: BlueprintSetupState) -> None:
    # Made while the app is built, before granian forks, so that every worker shares it.
    settings: Settings = state.app.config["DCDR_SETTINGS"]
    if settings.query_budget_seconds > 0:
        state.app.extensions[FAIRNESS] = Ledger(
            settings.query_budget_seconds, settings.budget_window
        )


def service() -> Service:
    extension: Service = current_app.extensions["dcdr"]
    return extension


def _parse_pairs(raw: bytes, where: str, limit: int) -> list[tuple[str, str]]:
    """Decodes `a=b&c=d` strictly: text that is not UTF-8 is refused, never replaced."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=limit
        )
    except UnicodeDecodeError:
        abort(400, f"the {where} is not valid UTF-8 (SPARQL requests must be UTF-8)")
    except ValueError as error:
        abort(400, f"the {where} could not be read: {error}")


def _check_body_size(settings: Settings) -> None:
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        # Read and drop what the client already sent, so that it gets to read the 413
        # instead of a reset connection; bounded, so a huge body costs at most this much.
        # The raw WSGI input: werkzeug's own stream refuses to read past the limit.
        stream = request.environ["wsgi.input"]
        remaining = min(length, 64 * 1024 * 1024)
        while remaining > 0:
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        abort(
            413,
            f"the request body is {length} bytes; this endpoint accepts at most "
            f"{settings.max_body_bytes} bytes",
        )


def read_parameters(settings: Settings) -> list[tuple[str, str]]:
    """The protocol parameters of this request, from the URL and (for POST) the body."""
    params = _parse_pairs(request.query_string, "query string", 1000)
    if request.method != "POST":
        return params
    _check_body_size(settings)
    media = request.mimetype
    if media == FORM:
        return params + _parse_pairs(request.get_data(cache=True), "form body", 1000)
    if media == DIRECT:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            abort(415, f"a SPARQL query must be sent as UTF-8, not {charset}")
        try:
            text = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            abort(400, "the request body is not valid UTF-8 (SPARQL requests must be UTF-8)")
        if any(name == "query" for name, _ in params):
            abort(400, "the query is given twice: in the body and in the URL's query parameter")
        return [*params, ("query", text)]
    if media == UPDATE:
        abort(403, UPDATE_REFUSED)
    if not media:
        abort(415, f"a POST to the SPARQL endpoint needs Content-Type {FORM} or {DIRECT}")
    abort(415, f"unsupported Content-Type {media}; use {FORM} or {DIRECT}")


class ProtocolError(Exception):
    """A request the protocol refuses: the status and the sentence the client gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.query_text: str | None = None


def _timeout(value: str | None, limit: float) -> float:
    """`timeout=` in seconds (Fuseki), or with an `ms` suffix in milliseconds; never above the
    server's limit."""
    if value is None or not value.strip():
        return limit
    text = value.strip().lower()
    try:
        seconds = float(text[:-2]) / 1000 if text.endswith("ms") else float(text.rstrip("s"))
    except ValueError:
        raise ProtocolError(
            400, f"timeout={value!r} is not a number of seconds (or of milliseconds with 'ms')"
        ) from None
    if seconds <= 0:
        raise ProtocolError(400, "timeout must be a positive number of seconds")
    return min(seconds, limit)


def _graphs(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    graphs = []
    for key, value in params:
        if key != name:
            continue
        try:
            pyoxigraph.NamedNode(value)
        except ValueError:
            raise ProtocolError(400, f"{name}={value!r} is not an absolute IRI") from None
        graphs.append(value)
    return tuple(graphs)


# Tokens that can hold brackets without nesting anything: comments, strings and IRIs.
_OPAQUE = OPAQUE_TOKENS
_NESTING_TOKENS = re.compile(
    _OPAQUE + r"|(?P<open>[({\[])|(?P<close>[)}\]])|(?P<unary>(?:[!^+-]\s*)+)"
)


def nesting_problem(text: str) -> str | None:
    """Why the query nests too deep for the parsers, or None."""
    brackets = text.count("(") + text.count("{") + text.count("[")
    operators = text.count("!") + text.count("^") + text.count("+") + text.count("-")
    if brackets <= MAX_NESTING and operators <= MAX_NESTING:
        return None  # too few to nest that deep: no need to tokenize (most queries)
    depth = 0
    for match in _NESTING_TOKENS.finditer(text):
        if match.group("open"):
            depth += 1
            if depth > MAX_NESTING:
                return (
                    f"the query nests groups or brackets more than {MAX_NESTING} deep; "
                    "flatten it (this endpoint accepts at most that depth)"
                )
        elif match.group("close"):
            depth -= 1
        elif match.group("unary") and sum(not c.isspace() for c in match.group()) > MAX_NESTING:
            return f"the query chains more than {MAX_NESTING} operators (! ^ + -) in a row"
    return None


def _not_acceptable_message(kind: str, offered: tuple[str, ...]) -> str:
    return (
        f"none of the accepted media types fits {kind}; this endpoint writes {', '.join(offered)}"
    )


def _not_acceptable(kind: str, offered: tuple[str, ...]) -> NoReturn:
    raise ProtocolError(406, _not_acceptable_message(kind, offered))


@dataclass(frozen=True)
class QueryRequest:
    """A query request the protocol accepts, with everything needed to answer it."""

    query: str
    timeout: float
    dataset: DatasetSpec
    choice: negotiation.Choice
    plan: QueryPlan
    # The answer's identity: its ETag and its key in the result cache.
    key: str
    # Resolves the query's relative IRIs: the endpoint's own IRI, as Oxigraph server does.
    base_iri: str = ""


def read_query_request(
    params: list[tuple[str, str]],
    accept: str,
    settings: Settings,
    version: str,
    base_iri: str = "",
) -> QueryRequest | None:
    """The query request held by the protocol parameters, or None when they hold no query.

    Raises `ProtocolError`, with `query_text` set on it once the query is known (for the log).
    """
    names = {name for name, _ in params}
    if names & set(UPDATE_PARAMETERS):
        raise ProtocolError(403, UPDATE_REFUSED)
    queries = [value for name, value in params if name == "query"]
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} query parameters given; send exactly one")
    if not queries:
        return None
    query = queries[0]
    try:
        return _checked_request(query, params, accept, settings, version, base_iri)
    except ProtocolError as error:
        error.query_text = query
        raise


def _checked_request(
    query: str,
    params: list[tuple[str, str]],
    accept: str,
    settings: Settings,
    version: str,
    base_iri: str,
) -> QueryRequest:
    if len(query) > settings.max_query_chars:
        raise ProtocolError(
            413, f"the query has {len(query)} characters; the limit is {settings.max_query_chars}"
        )
    if not query.strip():
        raise ProtocolError(400, "the query is empty")
    timeout = _timeout(next((v for n, v in params if n == "timeout"), None), settings.timeout)
    dataset = DatasetSpec(_graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri"))
    format_name = next((v for n, v in params if n in FORMAT_PARAMETERS and v), None)
    try:
        choice = negotiation.negotiate_header(accept, format_name)
    except negotiation.UnknownFormat as error:
        raise ProtocolError(400, str(error)) from None
    problem = nesting_problem(query)
    if problem:
        raise ProtocolError(400, problem)
    try:
        plan = analyze_query(query, settings.service_allowlist)
    except UpdateRefused:
        raise ProtocolError(400, f"{UPDATE_REFUSED}: the query parameter holds an update") from None
    except (QuerySyntaxError, QueryRefused) as error:
        raise ProtocolError(400, str(error)) from None
    choice = negotiation.for_form(choice, plan.form)
    if plan.form in ("select", "ask") and not choice.solutions:
        _not_acceptable("SELECT/ASK results", negotiation.SOLUTION_TYPES)
    if plan.form in ("construct", "describe") and not choice.graph:
        _not_acceptable("an RDF graph", negotiation.GRAPH_TYPES)
    media = {"select": choice.solutions, "ask": choice.solutions}.get(plan.form, choice.graph)
    if not plan.form:
        media = choice.key
    graphs = (*dataset.default_graphs, "|", *dataset.named_graphs)
    if plan.relative_iris:
        # Only then does the answer depend on the base, which may be the request's origin.
        graphs += ("|", base_iri)
    key = request_key(version, query, graphs, media)
    return QueryRequest(query, timeout, dataset, choice, plan, key, base_iri)


def cache_headers(key: str, settings: Settings) -> list[tuple[str, str]]:
    """What makes an answer cacheable: its ETag, its lifetime, and that it varies by Accept."""
    return [
        ("ETag", f'"{key}"'),
        ("Cache-Control", f"public, max-age={settings.max_age}"),
        ("Vary", "Accept"),
    ]


def answer_headers(result: QueryResult, key: str, settings: Settings) -> list[tuple[str, str]]:
    """The headers of a query's answer (the app adds CORS and the length)."""
    headers = [("Content-Type", get_content_type(result.media_type, "utf-8"))]
    headers += cache_headers(key, settings)
    if result.truncated:
        headers += [(TRUNCATED_HEADER, "true"), (ROW_LIMIT_HEADER, str(settings.row_limit))]
    headers += result.extra_headers.items()
    return headers


def timeout_refusal(error: Exception, timeout: float) -> tuple[str, int]:
    """The message and Retry-After seconds of a query stopped at its time limit."""
    return (
        f"{error}; simplify the query, add a LIMIT, or run it on a dump",
        max(1, math.ceil(timeout)),
    )


def _answer_headers(response: Response, key: str, settings: Settings) -> Response:
    for name, value in cache_headers(key, settings):
        response.headers[name] = value
    return response


def _describe_service(svc: Service, format_name: str | None) -> Response:
    try:
        media = negotiation.best_rdf_type(request.accept_mimetypes, format_name)
    except negotiation.UnknownFormat as error:
        abort(400, str(error))
    except negotiation.NothingAcceptable:
        abort(406, _not_acceptable_message("the service description", negotiation.GRAPH_TYPES))
    key = request_key(svc.store.version, "", (public_root(svc.settings),), "sd:" + media)
    if etag_matches(request.headers.get("If-None-Match"), key):
        return _answer_headers(Response(status=304), key, svc.settings)
    try:
        body = svc.describer.render(public_root(svc.settings), media)
    except (QueryTimeout, StoreUnavailable) as error:
        abort(503, f"the service description is unavailable: {error}")
    return _answer_headers(Response(body, mimetype=media), key, svc.settings)


class StoreFailure(ServiceUnavailable):
    """A 503 whose problem details say why the store did not answer (`reason`)."""

    def __init__(self, message: str, retry_after: int, reason: str) -> None:
        super().__init__(message, retry_after=retry_after)
        self.problem_reason = reason


def _store_failure(error: StoreError, timeout: float) -> NoReturn:
    """Answers a store's refusal or failure with its HTTP status."""
    if isinstance(error, QueryTimeout):
        message, retry_after = timeout_refusal(error, timeout)
        raise StoreFailure(message, retry_after, structured_log.TIMEOUT)
    if isinstance(error, StoreFailed):
        raise StoreFailure(str(error), 1, structured_log.STORE_ERROR)
    if isinstance(error, StoreUnavailable):
        raise StoreFailure(str(error), 1, structured_log.STORE_UNAVAILABLE)
    if isinstance(error, NotAcceptable):
        abort(406, str(error))
    abort(400, str(error))


def answer_query(svc: Service, query_request: QueryRequest) -> tuple[QueryResult, bool]:
    """The answer from the result cache, or else from the store (then kept); True when it came
    from the cache. Raises the store's `StoreError`."""
    caching = svc.settings.cache_bytes > 0
    if caching:
        cached = svc.cache.get(query_request.key)
        if cached is not None:
            return cached, True
    result = svc.store.query(
        query_request.query,
        query_request.dataset,
        query_request.choice.solutions,
        query_request.timeout,
        graph_media_type=query_request.choice.graph,
        base_iri=query_request.base_iri or None,
    )
    if caching:
        svc.cache.put(query_request.key, result)
    return result, False


def _run(svc: Service, query_request: QueryRequest) -> QueryResult:
    # The server's direct GET path (server/front/sparql_direct.py) hands over a store error it met,
    # to be answered here by the one error handler, without running the query twice.
    failed: StoreError | None = request.environ.get(STORE_ERROR)
    if failed is not None:
        _store_failure(failed, query_request.timeout)
    try:
        result, cached = answer_query(svc, query_request)
    except StoreError as error:
        _store_failure(error, query_request.timeout)
    if cached:
        g.dcdr_cache = "hit"
    return result


def _fair_run(svc: Service, query_request: QueryRequest) -> QueryResult:
    """`_run`, charged to the client's budget of query seconds when fairness is on."""
    ledger: Ledger | None = current_app.extensions.get(FAIRNESS)
    if ledger is None:
        return _run(svc, query_request)
    client = client_address(
        request.remote_addr, dict(request.headers), svc.settings.trusted_proxy_header
    )
    wait = ledger.retry_after(client)
    if wait > 0:
        raise TooManyRequests(
            f"this client has used its {ledger.budget:g} s of query time per "
            f"{ledger.window:g} s; retry in {math.ceil(wait)} s",
            retry_after=max(1, math.ceil(wait)),
        )
    started = time.monotonic()
    try:
        return _run(svc, query_request)
    finally:
        ledger.charge(client, time.monotonic() - started)


@bp.route("/sparql", methods=["GET", "POST"])
@bp.route("/sparql/", methods=["GET", "POST"])
def endpoint() -> ResponseReturnValue:
    svc = service()
    settings = svc.settings
    accept = request.headers.get("Accept", "")
    # An explicit format wins over a browser's Accept (which always names text/html).
    asked_format = any(request.args.get(name, "html") != "html" for name in FORMAT_PARAMETERS)
    if (
        negotiation.prefers_html_header(accept)
        and not asked_format
        and "pages.query_ui" in current_app.view_functions
    ):
        view = current_app.view_functions["pages.query_ui"]
        return current_app.ensure_sync(view)()
    params = read_parameters(settings)
    base_iri = endpoint_iri(public_root(settings))
    try:
        query_request = read_query_request(params, accept, settings, svc.store.version, base_iri)
    except ProtocolError as error:
        if error.query_text is not None:
            note_query(error.query_text, settings.log_query_text)
        abort(error.status, error.message)
    if query_request is None:
        if request.method == "POST":
            abort(400, "no query: send it as the 'query' parameter or as the body")
        format_name = next((v for n, v in params if n in FORMAT_PARAMETERS and v), None)
        return _describe_service(svc, format_name)
    query, key = query_request.query, query_request.key
    note_query(query, settings.log_query_text)
    if etag_matches(request.headers.get("If-None-Match"), key):
        return _answer_headers(Response(status=304), key, settings)
    result = _fair_run(svc, query_request)
    response = Response(result.body, headers=answer_headers(result, key, settings))
    if request.method == "GET" and not (
        query_request.plan.relative_iris and not configured_root(settings)
    ):
        # The answer depends on the request line and Accept alone (fairness, which depends on
        # the client, turns the server's replay off): the server may replay it as it is.
        fields = {"query_hash": g.get("dcdr_query_hash", "")}
        if settings.log_query_text:
            fields["query"] = query
        request.environ[CACHEABLE] = fields
    return response

"""`/metrics` in the Prometheus text format, with the official client library.

`dcdr serve` runs several worker processes. prometheus_client's multiprocess mode has each of
them write its counters to files of its own in one directory per run, which `dcdr serve`
creates before anything imports prometheus_client (`PROMETHEUS_MULTIPROC_DIR`, read once at
import) and removes at stop; a scrape, answered by whichever worker gets it, sums the files of
every worker of the run, those granian replaced included. Without that directory (an app built
in a test), a scrape covers the one process.

What is counted and where:

- requests by route (the URL rule, so that `/id/…` paths stay one series), method and status,
  and their durations: by the server's bridge (server/serving.py), which sees every answer,
  the replayed and direct ones that never reach Flask included (`RequestMeter`);
- queries that reached the store, their durations by outcome, timeouts, store errors, row
  caps hit, and the graph version: around the store (`MeteredStore`), so that the endpoint,
  the direct GET path and the pages are counted alike;
- cache hits and misses of the result cache and of the server's replay cache
  (`CountedResultCache`, `CountedResponseCache`).
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect

from server import structured_log
from server.cache import ResponseCache, ResponseKey, ResultCache, StoredResponse
from server.runaway import current_abandon, set_abandon
from server.store import (
    DatasetSpec,
    NotAcceptable,
    QueryRefused,
    QueryResult,
    QueryStore,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreFailed,
    StoreUnavailable,
)

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "dcdr_http_requests",
    "HTTP requests answered, by route (URL rule), method and status",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "dcdr_http_request_duration_seconds",
    "Time from a request's arrival to its answer, by route",
    ["route"],
    buckets=_SECONDS,
)
QUERY_SECONDS = Histogram(
    "dcdr_query_duration_seconds",
    "Time the store took per query (cached answers excluded), by outcome: ok, timeout, "
    "unavailable, error, rejected (syntax, refused, not acceptable)",
    ["outcome"],
    buckets=_SECONDS,
)
QUERY_TIMEOUTS = Counter("dcdr_query_timeouts", "Queries stopped at their time limit")
ROW_CAP_HITS = Counter("dcdr_row_cap_hits", "Answers cut at the row cap")
STORE_ERRORS = Counter(
    "dcdr_store_errors",
    "Queries the store failed, by reason: unavailable (down, unreachable, broke off) or "
    "error (it answered with an error)",
    ["reason"],
)
CACHE_HITS = Counter(
    "dcdr_cache_hits",
    "Answers found in a cache: result (by query) or response (whole GET answers replayed)",
    ["cache"],
)
CACHE_MISSES = Counter("dcdr_cache_misses", "Cache lookups that found nothing", ["cache"])
GRAPH_VERSION = Gauge(
    "dcdr_graph_version_info",
    "The version of the graph served (value 1; the version is the label)",
    ["version"],
    multiprocess_mode="max",
)

_OUTCOME_SECONDS = {
    name: QUERY_SECONDS.labels(outcome=name)
    for name in ("ok", "timeout", "unavailable", "error", "rejected")
}
_REJECTED = (QuerySyntaxError, QueryRefused, NotAcceptable)
_REASONS = {
    "timeout": structured_log.TIMEOUT,
    "unavailable": structured_log.STORE_UNAVAILABLE,
    "error": structured_log.STORE_ERROR,
}
# Routes remembered by path before the memory is cleared (paths under /id/ are unbounded).
_ROUTES_KEPT = 4096

bp = Blueprint("metrics", __name__)


def is_multiprocess() -> bool:
    from server.serving import METRICS_DIR_ENV

    return bool(os.environ.get(METRICS_DIR_ENV))


@bp.route("/metrics")
def scrape() -> Response:
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class RequestMeter:
    """Counts the answers the server's bridge gives, under the route Flask would match."""

    def __init__(self, url_map: Map) -> None:
        self._adapter = url_map.bind("localhost")
        self._routes: dict[str, str] = {}
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def route(self, path: str) -> str:
        route = self._routes.get(path)
        if route is None:
            route = self._match(path)
            if len(self._routes) >= _ROUTES_KEPT:
                self._routes.clear()
            self._routes[path] = route
        return route

    def _match(self, path: str) -> str:
        for method in ("GET", "POST"):
            try:
                rule, _ = self._adapter.match(path, method=method, return_rule=True)
            except MethodNotAllowed:
                continue
            except RequestRedirect:
                return "(redirect)"
            except NotFound:
                return "(unmatched)"
            return str(rule.rule)
        return "(unmatched)"

    def __call__(self, method: str, path: str, status: int, started: float) -> None:
        """One answer; `started` is the `time.perf_counter()` of its request."""
        route = self.route(path)
        series = self._series.get((route, method, status))
        if series is None:
            series = (
                REQUESTS.labels(route=route, method=method, status=str(status)),
                REQUEST_SECONDS.labels(route=route),
            )
            self._series[(route, method, status)] = series
        series[0].inc()
        series[1].observe(time.perf_counter() - started)


class CountedResultCache(ResultCache):
    _hit = CACHE_HITS.labels(cache="result")
    _miss = CACHE_MISSES.labels(cache="result")

    def get(self, key: str) -> QueryResult | None:
        value = super().get(key)
        (self._miss if value is None else self._hit).inc()
        return value


class CountedResponseCache(ResponseCache):
    _hit = CACHE_HITS.labels(cache="response")
    _miss = CACHE_MISSES.labels(cache="response")

    def get(self, key: ResponseKey) -> StoredResponse | None:
        value = super().get(key)
        (self._miss if value is None else self._hit).inc()
        return value


class MeteredStore:
    """A `QueryStore` that measures and logs every query of the store it wraps; every other
    attribute is the wrapped store's."""

    def __init__(self, store: QueryStore, log_query_text: bool = False) -> None:
        from server.health import known_version

        self.inner = store
        self.log_query_text = log_query_text
        self._reported = ""
        # Reported from the start when known without asking the store (always when embedded).
        version = known_version(store)
        if version is not None:
            self._report(version)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def version(self) -> str:
        version = self.inner.version
        if version != self._reported:
            self._report(version)
        return version

    def _report(self, version: str) -> None:
        GRAPH_VERSION.labels(version=version).set(1)
        self._reported = version

    def query(
        self,
        text: str,
        dataset: DatasetSpec,
        media_type: str,
        timeout: float,
        *,
        graph_media_type: str = "",
    ) -> QueryResult:
        started = time.perf_counter()
        # A query the watchdog gives up on (server/runaway.py) is answered 503 while it still
        # runs: it is counted and logged then, with the time it had run.
        given_up: list[float] = []
        previous = current_abandon()
        if previous is not None:

            def abandon(error: BaseException) -> None:
                given_up.append(time.perf_counter() - started)
                _OUTCOME_SECONDS["timeout"].observe(given_up[0])
                self._failed("timeout", str(error), given_up[0], timeout, text)
                previous(error)

            set_abandon(abandon)
        outcome = "ok"
        try:
            result = self.inner.query(
                text, dataset, media_type, timeout, graph_media_type=graph_media_type
            )
        except _REJECTED:
            outcome = "rejected"
            raise
        except StoreError as error:
            outcome = _outcome(error)
            if not given_up:
                self._failed(outcome, str(error), time.perf_counter() - started, timeout, text)
            raise
        finally:
            if previous is not None:
                set_abandon(previous)
            if not given_up:
                _OUTCOME_SECONDS[outcome].observe(time.perf_counter() - started)
        if result.truncated:
            ROW_CAP_HITS.inc()
        return result

    def _failed(self, outcome: str, message: str, seconds: float, limit: float, text: str) -> None:
        if outcome == "timeout":
            QUERY_TIMEOUTS.inc()
        else:
            STORE_ERRORS.labels(reason=outcome).inc()
        structured_log.log_query_failed(
            _REASONS[outcome], message, seconds, limit, text, self.log_query_text
        )


def _outcome(error: StoreError) -> str:
    if isinstance(error, QueryTimeout):
        return "timeout"
    if isinstance(error, StoreFailed):
        return "error"
    if isinstance(error, StoreUnavailable):
        return "unavailable"
    return "error"

"""`/metrics` in the Prometheus text format, with the official client library.

`dcdr serve` runs several worker processes. prometheus_client's multiprocess mode has each of
them write its counters to files of its own in one directory per run, which `dcdr serve`
creates before anything imports prometheus_client (`PROMETHEUS_MULTIPROC_DIR`, read once at
import) and removes at stop; a scrape, answered by whichever worker gets it, sums the files of
every worker of the run, those granian replaced included. Without that directory (an app built
in a test), a scrape covers the one process, and without the bridge (Flask's test client,
`--dev`) requests and cache lookups are not counted.

What is counted and where:

- requests by route (the URL rule, so that `/id/…` paths stay one series), method and status,
  and their durations: by the server's bridge (server/front/serving.py), which sees every answer,
  the replayed and direct ones that never reach Flask included (`RequestMeter`), written in
  batches at most `FLUSH_SECONDS` late (`LoopBatch`);
- queries that reached the store, their durations by outcome, timeouts, store errors, row
  caps hit, and the graph version: around the store (`MeteredStore`), so that the endpoint,
  the direct GET path and the pages are counted alike;
- cache hits and misses of the result cache and of the server's replay cache, as the caches
  count them (`LoopBatch.follow`).
"""

from __future__ import annotations

import asyncio
import os
import time
from bisect import bisect_left
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
from werkzeug.exceptions import MethodNotAllowed, NotFound, ServiceUnavailable
from werkzeug.routing import Map, RequestRedirect

from server import structured_log
from server.config import METRICS_DIR_ENV
from server.protocol.cache import ResponseCache, ResultCache
from server.stores.runaway import current_abandon, set_abandon
from server.stores.store import (
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
# Requests remembered with their series before the memory is cleared.
_REQUESTS_KEPT = 4096
# How late a scrape may see an answer the server's bridge gave (`LoopBatch`).
FLUSH_SECONDS = 0.25
_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})

bp = Blueprint("metrics", __name__)


def is_multiprocess() -> bool:

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


class LoopBatch:
    """Additions to prometheus_client's values gathered on an event loop and written in one
    batch once the oldest is `max_delay` seconds old (or at `flush()`).

    In multiprocess mode each addition takes a lock and writes a memory-mapped file, four of
    them per answer (a request, a histogram's sum and bucket, a cache lookup), on the replay
    path, the server's fastest: written at once they cost about 2.3 µs per answer, noted here
    1.2 µs (docs/deploy.md). So an answer is noted in plain Python objects, caches are read for
    the hits and misses they count anyway, and a scrape sees an answer up to `max_delay`
    seconds late. Used on the loop only, so it needs no lock of its own.
    """

    def __init__(self, max_delay: float = FLUSH_SECONDS) -> None:
        self.max_delay = max_delay
        self._values: dict[Any, float] = {}
        self._series: list[_Series] = []
        self._caches: list[_FollowedCache] = []
        self._scheduled = False

    def follow(self, name: str, cache: ResultCache | ResponseCache) -> None:
        """Writes the cache's hits and misses (it counts them itself) at every flush."""
        self._caches.append(_FollowedCache(name, cache))

    def schedule(self) -> bool:
        """Makes sure a flush will come; False when there is no loop to run it."""
        if self._scheduled:
            return True
        try:
            asyncio.get_running_loop().call_later(self.max_delay, self.flush)
        except RuntimeError:
            return False
        self._scheduled = True
        return True

    def add(self, value: Any, amount: float = 1.0) -> None:
        """Adds `amount` to `value` (anything with `inc`) at the next flush."""
        if not self.schedule():
            value.inc(amount)
            return
        self._values[value] = self._values.get(value, 0.0) + amount

    def observe(self, series: _Series, seconds: float) -> None:
        """One answer of `series` that took `seconds`."""
        if not series.count:
            self._series.append(series)
        series.note(seconds)
        if not self.schedule():
            self.flush()

    def flush(self) -> None:
        self._scheduled = False
        values, self._values = self._values, {}
        for value, amount in values.items():
            value.inc(amount)
        series, self._series = self._series, []
        for each in series:
            each.flush()
        for cache in self._caches:
            cache.flush()


class _Series:
    """One label set of the request counter with its duration histogram, and the answers of it
    not yet written."""

    __slots__ = ("bounds", "buckets", "count", "hits", "requests", "seconds_sum", "total")

    def __init__(self, requests: Any, seconds: Any) -> None:
        self.requests = requests
        # prometheus_client's histogram child keeps its bucket bounds (ending with +Inf), one
        # value per bucket, counted apart and summed at exposition, and the sum of what it
        # observed; it has no call to add many observations at once, so they are added here
        # as its `observe` does (tests/test_metrics.py reads the histogram back).
        self.bounds: list[float] = seconds._upper_bounds
        self.buckets: list[Any] = seconds._buckets
        self.seconds_sum: Any = seconds._sum
        self.count = 0
        self.total = 0.0
        self.hits = [0] * len(self.bounds)

    def note(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        # The first bucket whose bound holds the value, as Histogram.observe picks it.
        self.hits[bisect_left(self.bounds, seconds)] += 1

    def flush(self) -> None:
        if not self.count:
            return
        self.requests.inc(self.count)
        self.seconds_sum.inc(self.total)
        for value, hits in zip(self.buckets, self.hits, strict=True):
            if hits:
                value.inc(hits)
        self.count, self.total, self.hits = 0, 0.0, [0] * len(self.bounds)


class RequestMeter:
    """Counts the answers the server's bridge gives, under the route Flask would match."""

    def __init__(self, url_map: Map, batch: LoopBatch) -> None:
        self._adapter = url_map.bind("localhost")
        self._batch = batch
        # By request (path, method, status), bounded; and by label set.
        self._requests: dict[tuple[str, str, int], _Series] = {}
        self._series: dict[tuple[str, str, int], _Series] = {}

    def flush(self) -> None:
        self._batch.flush()

    def route(self, path: str) -> str:
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
        seconds = time.perf_counter() - started
        series = self._requests.get((path, method, status))
        if series is None:
            series = self._find(path, method, status)
        self._batch.observe(series, seconds)

    def _find(self, path: str, method: str, status: int) -> _Series:
        route = self.route(path)
        # A client may send any method token: only the ones served are labels of their own.
        label = method if method in _METHODS else "other"
        series = self._series.get((route, label, status))
        if series is None:
            series = _Series(
                REQUESTS.labels(route=route, method=label, status=str(status)),
                REQUEST_SECONDS.labels(route=route),
            )
            self._series[(route, label, status)] = series
        if len(self._requests) >= _REQUESTS_KEPT:  # paths under /id/ are unbounded
            self._requests.clear()
        self._requests[(path, method, status)] = series
        return series


class _FollowedCache:
    """A cache's own hit and miss counts, written as the increase since the last flush."""

    def __init__(self, name: str, cache: ResultCache | ResponseCache) -> None:
        self.cache = cache
        self.hit = CACHE_HITS.labels(cache=name)
        self.miss = CACHE_MISSES.labels(cache=name)
        self.hits = self.misses = 0

    def flush(self) -> None:
        # Read without the cache's lock: each count is one int, and a lookup counted just
        # after the reading is written at the next flush.
        hits, misses = self.cache.hits, self.cache.misses
        if hits > self.hits:
            self.hit.inc(hits - self.hits)
        if misses > self.misses:
            self.miss.inc(misses - self.misses)
        self.hits, self.misses = hits, misses


class MeteredStore:
    """A `QueryStore` that measures and logs every query of the store it wraps; every other
    attribute is the wrapped store's."""

    def __init__(
        self, store: QueryStore, log_query_text: bool = False, slow_seconds: float = 0.0
    ) -> None:
        from server.protocol.health import known_version

        self.inner = store
        self.log_query_text = log_query_text
        self.slow_seconds = slow_seconds
        self._reported = ""
        # Reported from the start when known without asking the store (always when embedded).
        version = known_version(store)
        if version is not None:
            self._report(version)
        on_change = getattr(store, "on_change", None)
        if on_change is not None:  # a remote store's live build (server/stores/live_version.py)
            on_change(self._report)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def version(self) -> str:
        """The store's version; a store that cannot tell it (a remote one down, before its
        version is known) is the request's 503, never a 500."""
        try:
            version = self.inner.version
        except StoreError as error:
            raise ServiceUnavailable(
                f"the graph version is not known yet: {error}", retry_after=1
            ) from error
        if version != self._reported:
            self._report(version)
        return version

    def _report(self, version: str) -> None:
        if self._reported and self._reported != version:
            # Only the current version is 1. With prometheus_client's multiprocess files a
            # removed label still reads from its file, hence the 0 first.
            GRAPH_VERSION.labels(version=self._reported).set(0)
            GRAPH_VERSION.remove(self._reported)
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
        base_iri: str | None = None,
    ) -> QueryResult:
        started = time.perf_counter()
        # A query the watchdog gives up on (server/stores/runaway.py) is answered 503 while it still
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
                text,
                dataset,
                media_type,
                timeout,
                graph_media_type=graph_media_type,
                base_iri=base_iri,
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
        seconds = time.perf_counter() - started
        if 0 < self.slow_seconds <= seconds:
            structured_log.log_slow_query(seconds, timeout, text, self.log_query_text)
        return result

    def _failed(self, outcome: str, message: str, seconds: float, limit: float, text: str) -> None:
        if outcome == "timeout":
            QUERY_TIMEOUTS.inc()
        else:
            STORE_ERRORS.labels(reason=outcome).inc()
        structured_log.log_query_failed(
            _REASONS[outcome], message, seconds, limit, text, self.log_query_text
        )


def unmetered(store: QueryStore) -> QueryStore:
    """The store under the meter: for the server's own questions (the build's root), which are
    neither the clients' queries nor theirs to count or log as slow."""
    return store.inner if isinstance(store, MeteredStore) else store


def _outcome(error: StoreError) -> str:
    if isinstance(error, QueryTimeout):
        return "timeout"
    if isinstance(error, StoreFailed):
        return "error"
    if isinstance(error, StoreUnavailable):
        return "unavailable"
    return "error"

"""Liveness and readiness, kept apart as orchestrators and load balancers expect.

`/healthz` says the process answers HTTP: it touches no store, so a slow or absent store never
gets a live server restarted. `/readyz` says the server can answer queries now: the store
answers a trivial query within `READY_TIMEOUT` seconds and the graph's version (on which every
ETag depends) is known; otherwise 503 with the reason, so that a balancer sends no traffic yet
(a fresh Virtuoso takes seconds before its first answer). Neither answer may be cached.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from graph.namespaces import graph_iri
from server.stores.store import (
    MEDIA_JSON,
    DatasetSpec,
    QueryStore,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)
from server.structured_log import describe_store

bp = Blueprint("health", __name__)

READY_TIMEOUT = 2.0
# Answerable by any SPARQL store without reading data; the dataset is named so that a remote
# store need not first discover the project's graphs.
_TRIVIAL_QUERY = "ASK {}"
_PROBE_DATASET = DatasetSpec(default_graphs=(str(graph_iri("meta")),))
_EXTENSION = "dcdr_readiness"


def known_version(store: QueryStore) -> str | None:
    """The store's version if it is known without asking the store (a remote store learns it
    from its setting or from a fingerprint of its graphs, which takes queries)."""
    if hasattr(store, "known_version"):
        known: str | None = store.known_version
        return known
    return store.version


class Readiness:
    """Checks the store for `/readyz` (one per server process).

    Learning a remote store's version may take longer than a probe should wait: it is done in a
    thread of its own, which a later probe finds finished.
    """

    def __init__(self, store: QueryStore, timeout: float = READY_TIMEOUT) -> None:
        self.store = store
        self.timeout = timeout
        self._lock = threading.Lock()
        self._learning: threading.Thread | None = None
        self._failure = ""

    def check(self) -> str | None:
        """None when ready, else the reason why not."""
        started = time.monotonic()
        try:
            self.store.query(_TRIVIAL_QUERY, _PROBE_DATASET, MEDIA_JSON, self.timeout)
        except QueryTimeout:
            return f"the store did not answer a trivial query within {self.timeout:g} s"
        except StoreUnavailable as error:
            return f"the store is unavailable: {error}"
        except StoreError as error:
            return f"the store failed a trivial query: {error}"
        if self._version(self.timeout - (time.monotonic() - started)) is None:
            why = f" ({self._failure})" if self._failure else ""
            return f"the graph version is not known yet{why}"
        return None

    def _version(self, wait: float) -> str | None:
        version = known_version(self.store)
        if version is not None:
            return version
        with self._lock:
            if self._learning is None or not self._learning.is_alive():
                self._learning = threading.Thread(
                    target=self._learn, name="dcdr-version", daemon=True
                )
                self._learning.start()
            learning = self._learning
        learning.join(max(wait, 0.0))
        return known_version(self.store)

    def _learn(self) -> None:
        try:
            _ = self.store.version
            self._failure = ""
        except StoreError as error:
            self._failure = str(error)


def _readiness() -> Readiness:
    readiness: Readiness = current_app.extensions[_EXTENSION]
    return readiness


def _no_store(response: ResponseReturnValue) -> ResponseReturnValue:
    from flask import make_response

    answer = make_response(response)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    store = current_app.extensions["dcdr"].store
    return _no_store(jsonify(status="ok", version=known_version(store)))


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    readiness = _readiness()
    reason = readiness.check()
    store = describe_store(current_app.extensions["dcdr"].settings.store)
    version = known_version(readiness.store)
    if reason is None:
        return _no_store(jsonify(status="ready", version=version, store=store))
    body = jsonify(status="not ready", reason=reason, version=version, store=store)
    body.status_code = 503
    body.headers["Retry-After"] = "1"
    return _no_store(body)


def register(app: Flask, store: QueryStore) -> None:
    """Adds the two routes; the readiness state is made here, before workers fork."""
    app.extensions[_EXTENSION] = Readiness(store)
    app.register_blueprint(bp)

"""The web app: `create_app(config=None)` builds a Flask app serving the built dataset.

Shaped like Flask's flaskr tutorial: settings in one object (`server.config.Settings`), the
store made once, blueprints `sparql` (protocol, service description), `pages` (linked-data
pages and query UI) and `health` (liveness, readiness), and one error handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from server.config import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from flask import Flask, Response

    from server.stores.store import QueryStore

# Flask and the app's modules are imported inside the functions: query worker processes import
# this package (for server.stores.oxigraph_store) and must start without them.

# Read-only public data: any origin may read it, and no credentials are ever involved. The
# second header names what a browser script may read of our answers (CORS hides the rest).
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    (
        "Access-Control-Expose-Headers",
        "ETag, X-DCDR-Result-Truncated, X-DCDR-Row-Limit, Content-Length",
    ),
)


def _split_config(
    config: Settings | Mapping[str, Any] | None,
) -> tuple[Settings, dict[str, Any]]:
    """Settings from the environment, overridden by `config`; other keys go to Flask's config.

    `config` may name settings as fields (`timeout`) or as env vars (`DCDR_TIMEOUT`).
    """
    if isinstance(config, Settings):
        return config, {}
    base = Settings.from_env()
    fields = set(Settings.__dataclass_fields__)
    changes: dict[str, Any] = {}
    flask_config: dict[str, Any] = {}
    for key, value in (config or {}).items():
        name = key.removeprefix(ENV_PREFIX).lower() if key.startswith(ENV_PREFIX) else key
        if name in fields:
            changes[name] = value
        else:
            flask_config[key] = value
    return base.replace(**changes), flask_config


def make_store(settings: Settings) -> QueryStore:
    """The store named by the settings; raises `DistError` when dist/ cannot be served."""
    if settings.store.startswith("sparql:"):
        import requests

        from server.stores.live_version import LiveBuildStore
        from server.stores.remote_store import RemoteSparqlStore
        from server.stores.store_credentials import StoreAuth, split_credentials

        def remote(version: str | None, graphs: tuple[str, ...] | None) -> RemoteSparqlStore:
            # The live build's graphs, never discovered.
            return RemoteSparqlStore.from_setting(
                settings.store, version, max_rows=settings.row_limit, graphs=graphs
            )

        # The pointer is read with the app's own store account, and its URL never carries the
        # password into an error message.
        query_url, credentials = split_credentials(
            settings.store.removeprefix("sparql:").partition("#")[0]
        )
        session = requests.Session()
        if credentials is not None:
            session.auth = StoreAuth(*credentials)
        return LiveBuildStore(
            remote,
            query_url,
            pinned=settings.store_version or None,
            refresh_seconds=settings.store_refresh_seconds,
            session=session,
        )
    from server.stores.oxigraph_store import OxigraphStore

    return OxigraphStore.from_settings(settings)


def _cors(response: Response) -> Response:
    from flask import request

    for name, value in CORS_HEADERS:
        response.headers[name] = value
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Accept, Content-Type, If-None-Match"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The app for `config` (a `Settings`, a mapping of overrides, or None for the env)."""
    from flask import Flask

    from server import accesslog, errors
    from server.pages import (
        cite_pages,
        dataset_description,
        dumps_page,
        figures_pages,
        http_caching,
        query_editor,
        report_pages,
    )
    from server.pages import views as pages
    from server.protocol import health, metrics, public_address, sparql
    from server.protocol.cache import ResultCache
    from server.protocol.service_description import ServiceDescriber
    from server.stores.store import StoreError

    settings, flask_config = _split_config(config)
    if not settings.store.startswith("sparql:"):
        # Resolved once: `dist` is a link that a rebuild swaps, and every part of the app (the
        # store, query workers started later, the dump downloads) must read the build this
        # server verified at start, under the version (ETags) it computed then.
        settings = settings.replace(dist=settings.dist.resolve())
    # The pages' files live with the pages (server/pages/); the app serves their static folder
    # under /static as it did when they sat next to this module.
    app = Flask(__name__, static_folder="pages/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["DCDR_QUERY_TIMEOUT"] = settings.timeout
    app.config["DCDR_SETTINGS"] = settings
    app.config.update(flask_config)
    plain_store = make_store(settings)
    store = metrics.MeteredStore(plain_store, settings.log_query_text, settings.slow_query_seconds)
    result_cache = ResultCache(settings.cache_bytes)
    on_change = getattr(plain_store, "on_change", None)
    if on_change is not None:  # a remote store's new live build: old answers are dropped
        on_change(result_cache.clear)
    app.extensions["dcdr"] = sparql.Service(
        store=store,
        settings=settings,
        cache=result_cache,
        describer=ServiceDescriber(store, settings.timeout),
    )
    errors.register(app)
    app.register_error_handler(StoreError, pages.store_error)
    accesslog.register(app, settings.access_log)
    # Flask calls these in the reverse order: the address is written in, then validated.
    app.after_request(_cors)
    app.after_request(http_caching.add_validators)
    app.after_request(public_address.localize_response)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(dataset_description.bp)
    app.register_blueprint(figures_pages.bp)
    app.register_blueprint(report_pages.bp)
    app.register_blueprint(dumps_page.bp)
    app.register_blueprint(cite_pages.bp)
    app.register_blueprint(query_editor.bp)
    health.register(app, plain_store)  # readiness probes are neither metered nor logged
    app.register_blueprint(metrics.bp)
    return app

"""`dcdr serve`: the app under gunicorn (threads in a few processes), or Flask's reloader with
`--dev`. Also runnable as `python -m server.serving --host H --port P --dist PATH`.

The app is created once in the gunicorn master, so a bad `dist/` stops the start-up with one
clear message before any worker forks; each worker then starts its own pool of query processes.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from server.config import ConfigError, Settings

if TYPE_CHECKING:
    from flask import Flask

# gunicorn and Flask are imported when serving starts: query worker processes import the main
# module (this one under `python -m server.serving`) and must start fast.


def _run_gunicorn(app: Flask, options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        """gunicorn driven from Python, with our options only (no config file, no argv)."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    Gunicorn().run()


def _start_pool_after_fork(app: Flask) -> Any:
    def post_fork(server: Any, worker: Any) -> None:
        store = app.extensions["dcdr"].store
        start = getattr(store, "start", None)
        if start is not None:
            # Before the worker accepts connections: a worker still starting its pool takes
            # none, so no request ever waits for a pool.
            start()

    return post_fork


def gunicorn_options(settings: Settings, app: Flask) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        # A worker thread blocks at most for one query; gunicorn must not kill it first.
        "timeout": int(settings.timeout) + 30,
        "graceful_timeout": 5,
        "keepalive": 5,
        # Long GET queries: our own limit (max_query_chars) answers with a clear 413.
        "limit_request_line": 0,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "post_fork": _start_pool_after_fork(app),
        "proc_name": "dcdr-serve",
    }


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int | None = None,
    dev: bool = False,
    *,
    settings: Settings | None = None,
) -> int:
    """Serves `dist/` until stopped; returns the process exit code (1 on a bad start)."""
    from server import create_app
    from server.oxigraph_store import DistError
    from server.store import analyze_query

    try:
        chosen = (settings or Settings.from_env()).replace(
            host=host, port=port, workers=workers, threads=threads, dev=dev
        )
        app = create_app(chosen)
    except (ConfigError, DistError, ValueError) as error:
        print(f"dcdr serve: {error}", file=sys.stderr)
        return 1
    # The query parser (rdflib, 0.4 s to import) loads once here and is shared by every worker.
    analyze_query("ASK {}")
    if chosen.dev:
        app.run(host=chosen.host, port=chosen.port, debug=True, use_reloader=True, threaded=True)
        return 0
    _run_gunicorn(app, gunicorn_options(chosen, app))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.serving", description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dev", action="store_true")
    parser.add_argument("--dist", default=None, help="the built dataset (default: dist/)")
    parser.add_argument("--timeout", default=None, help="hard query limit in seconds")
    parser.add_argument("--row-limit", default=None, help="most rows/triples in one answer")
    parser.add_argument("--cache-bytes", default=None, help="result cache size; 0 disables it")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().replace(
            dist=args.dist,
            timeout=args.timeout,
            row_limit=args.row_limit,
            cache_bytes=args.cache_bytes,
        )
    except ConfigError as error:
        print(f"dcdr serve: {error}", file=sys.stderr)
        return 1
    return serve(
        args.host or settings.host,
        args.port if args.port is not None else settings.port,
        args.workers,
        args.threads,
        args.dev,
        settings=settings,
    )


if __name__ == "__main__":
    sys.exit(main())

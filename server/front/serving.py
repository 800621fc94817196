"""`dcdr serve`: the app under granian (a Rust HTTP server), or Flask's reloader with `--dev`.
Also runnable as `python -m server.front.serving --host H --port P --dist PATH`.

Why granian and its RSGI interface rather than gunicorn or granian's own WSGI: a public endpoint
must not let slow clients hold the threads that run queries. gunicorn's gthread worker hands a
connection to a thread as soon as a byte arrives and reads the rest with blocking reads, and
granian's WSGI interface reads the body from the app's thread too; a handful of clients sending
a byte a second then stop the server. Here the request head is read by granian's Rust side
(closed after `request_read_timeout`), the body by the asyncio loop with one total deadline
(answered 408), and only a complete request reaches a thread of the Flask app. The same loop
answers repeated GET queries from the response cache without any thread hop (the bulk of the
speed-up measured in docs/performance.md).

Measured again for issue 15 against granian's WSGI interface with the same app (the caching
and the direct answer would be WSGI middleware there, after the body is read, so they change
nothing here): in the slow-client regression scenario (`bench/slow_clients.py`, 2 workers × 2
threads, 6 tricklers) the WSGI server let the body tricklers hold its threads to their last
byte and made an ordinary GET wait 16 s in each of four runs, where this bridge answered
every GET within 10 ms and cut every trickler off after 3–4 s. So the bridge stays.

The app is created once in the main process, so a bad `dist/` stops the start-up with one clear
message before any worker forks; each worker then starts its own pool of query processes.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import functools
import io
import logging
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from server.accesslog import REQUEST_STARTED
from server.config import METRICS_DIR_ENV, ConfigError, Settings
from server.problem_details import PROBLEM_JSON, problem_body
from server.protocol.cache import CACHEABLE, ResponseCache, ResponseKey, StoredResponse
from server.stores.runaway import QueryAbandoned

if TYPE_CHECKING:
    from flask import Flask

    from server.accesslog import LoopBatchedLog
    from server.front.sparql_direct import DirectAnswer, DirectGet
    from server.protocol.metrics import RequestMeter

logger = logging.getLogger("dcdr.server")

# granian and Flask are imported when serving starts: query worker processes import the main
# module (this one under `python -m server.front.serving`) and must start fast.

# Bytes of a body read (and dropped) past the app's limit, so that the client reads our 413
# instead of a reset connection.
_DRAIN_LIMIT = 64 * 1024 * 1024
# Answers up to this size are sent in one piece; longer ones (dumps) are streamed.
_WHOLE = 1 << 20
_JSON = [("content-type", PROBLEM_JSON), ("connection", "close")]
# One header field at most (gunicorn's and nginx's usual limit): nothing of ours needs more.
MAX_HEADER_BYTES = 8190

Headers = list[tuple[str, str]]
AppAnswer = tuple[int, Headers, "bytes | Iterator[bytes]"]


class _BodyTooSlow(Exception):
    """The client did not send its whole body within the request-read deadline."""


class _HeadTooLarge(Exception):
    """A header field is longer than `MAX_HEADER_BYTES` (granian itself refuses more than 100
    fields, with an empty 431)."""


def _host_port(address: str | None, default_port: str) -> tuple[str, str]:
    """`"127.0.0.1:8000"` or `"[::1]:8000"` as (host, port)."""
    if not address:
        return "", default_port
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, default_port
    return host.strip("[]"), port


def _check_head(headers: Any) -> None:
    for name, value in headers.items():
        if len(value) > MAX_HEADER_BYTES:
            raise _HeadTooLarge(name)


def wsgi_environ(scope: Any, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an RSGI request whose body has been read in full."""
    server_host, server_port = _host_port(scope.server, "80")
    client_host, client_port = _host_port(scope.client, "0")
    # RSGI gives the path percent-decoded as text; WSGI wants its bytes as latin-1 text.
    path = scope.path.encode("utf-8", "surrogateescape").decode("latin-1")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host,
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
            continue
        if key == "TRANSFER_ENCODING":
            continue  # the body is whole: the app sees its length, not the framing
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if body or "CONTENT_LENGTH" in environ:
        environ.setdefault("CONTENT_LENGTH", str(len(body)))
    return environ


class AppThreads:
    """Threads that run blocking calls for the event loop, handing each result back with one
    `call_soon_threadsafe`: cheaper per request than `run_in_executor`, whose future chaining
    cost more than Flask itself in the profile of the distinct-query mix.

    A call may be given up from another thread (`server.stores.runaway.set_abandon`, used for a
    query that outlives its time limit): its caller gets the error at once, and a new thread takes
    the place of the one still busy, which ends once its call returns.
    """

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._started = 0
        self._lock = threading.Lock()
        for _ in range(count):
            self._start_thread()

    def _start_thread(self) -> None:
        with self._lock:
            name = f"dcdr-app-{self._started}"
            self._started += 1
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def run(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((loop, future, function, args))
        return future

    def _serve(self) -> None:
        from server.stores.runaway import must_retire, set_abandon

        given_up = threading.Event()
        while not given_up.is_set() and not must_retire():
            loop, future, function, args = self._jobs.get()
            set_abandon(functools.partial(self._abandon, loop, future, given_up))
            outcome: tuple[Any, BaseException | None]
            try:
                outcome = (function(*args), None)
            except BaseException as error:  # handed to the awaiting coroutine, never lost
                outcome = (None, error)
            set_abandon(None)
            # The loop may be gone by the time a given-up call returns (at shutdown): then
            # nobody waits for this outcome.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, *outcome)
        if not given_up.is_set():
            self._start_thread()  # retired: a fresh thread at the default priority

    def _abandon(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        given_up: threading.Event,
        error: BaseException,
    ) -> None:
        if given_up.is_set():
            return
        given_up.set()
        loop.call_soon_threadsafe(_settle, future, None, error)
        self._start_thread()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled, or already answered for a call that was given up
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class RsgiBridge:
    """Serves a WSGI app from granian's RSGI interface (one per granian worker process).

    `read_timeout` bounds the reading of a request body; `cache` (when given) replays stored
    GET answers from the event loop, `direct` (when given) answers plain SPARQL GETs without
    the app, `log` writes an access-log entry for the answers the app did not give, and
    `meter` counts every answer (server/protocol/metrics.py).
    """

    def __init__(
        self,
        app: Callable[..., Any],
        threads: int,
        read_timeout: float,
        max_body: int,
        cache: ResponseCache | None = None,
        log: LoopBatchedLog | None = None,
        direct: DirectGet | None = None,
        meter: RequestMeter | None = None,
    ) -> None:
        self.app = app
        self.meter = meter
        self.read_timeout = read_timeout
        self.max_body = max_body
        self.cache = cache
        self.log = log
        self.direct = direct
        self.threads = AppThreads(threads)

    async def __call__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        started = time.perf_counter()
        # Each read of the scope copies out of granian, and a query string may be long: the
        # parts of the request the direct path and the cache use are read once, here.
        method, headers = scope.method, scope.headers
        key: ResponseKey | None = None
        generation = self.cache.generation if self.cache is not None else 0
        if method == "GET":
            key = (scope.path, scope.query_string, headers.get("accept") or "")
            stored = self.cache.get(key) if self.cache is not None else None
            if stored is not None:
                self._replay(scope, proto, stored, started)
                return
        try:
            _check_head(headers)
            body = await self._read_body(proto, headers)
        except _BodyTooSlow:
            message = f"the request was not received within {self.read_timeout:g} s"
            proto.response_bytes(408, _JSON, _error(408, "Request Timeout", message))
            self._count(method, scope.path, 408, started)
            return
        except _HeadTooLarge as error:
            message = f"the header {error} is longer than {MAX_HEADER_BYTES} bytes"
            title = "Request Header Fields Too Large"
            proto.response_bytes(431, _JSON, _error(431, title, message))
            self._count(method, scope.path, 431, started)
            return
        try:
            if key is not None and self._is_direct(key[0], headers, body):
                outcome = await self.threads.run(self._answer_get, scope, key, started)
            else:
                environ = wsgi_environ(scope, body)
                environ[REQUEST_STARTED] = started
                outcome = (environ, await self.threads.run(self._call_app, environ))
        except QueryAbandoned as error:
            self._abandoned(scope, proto, error, started)
            return
        except Exception:
            # Flask turns every error of the app into an answer; this is the bridge's own.
            logger.exception("unexpected error while answering %s %s", method, scope.path)
            _log_event("internal_error", method=method, path=scope.path)
            message = "the server failed to answer this request; the error was logged"
            proto.response_bytes(500, _JSON, _error(500, "Internal Server Error", message))
            self._count(method, scope.path, 500, started)
            return
        if not isinstance(outcome, tuple):
            assert key is not None  # a direct answer is to a GET
            self._send_direct(key, proto, outcome, generation)
            return
        environ, (status, response_headers, chunks) = outcome
        self._count(method, scope.path, status, started)
        if isinstance(chunks, bytes):
            proto.response_bytes(status, response_headers, chunks)
            if key is not None:
                self._remember(key, environ, status, response_headers, chunks, generation)
            return
        # A file (a dump): streamed, one block per thread hop, never held whole in memory.
        transport = proto.response_stream(status, response_headers)
        try:
            while block := await self.threads.run(next, chunks, b""):
                await transport.send_bytes(block)
        except RuntimeError:
            pass  # granian's RSGIProtocolClosed: the client went away mid-download
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                await self.threads.run(close)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called by granian when this worker stops: the last batch of the access log and of
        the metrics."""
        if self.log is not None:
            self.log.flush()
        if self.meter is not None:
            self.meter.flush()

    def _count(self, method: str, path: str, status: int, started: float) -> None:
        if self.meter is not None:
            self.meter(method, path, status, started)

    def _is_direct(self, path: str, headers: Any, body: bytes) -> bool:
        return (
            self.direct is not None
            and path in self.direct.PATHS
            and not body
            and "if-none-match" not in headers
        )

    def _answer_get(
        self, scope: Any, key: ResponseKey, started: float
    ) -> DirectAnswer | tuple[dict[str, Any], AppAnswer]:
        """In a pool thread: the direct answer, or else the app's (given the store error the
        direct path met, so that the query does not run twice)."""
        from server.front.sparql_direct import Declined
        from server.protocol.sparql import STORE_ERROR

        assert self.direct is not None
        _, query_string, accept = key
        answer = self.direct.answer(query_string, accept)
        if not isinstance(answer, Declined):
            return answer
        environ = wsgi_environ(scope, b"")
        environ[REQUEST_STARTED] = started
        if answer.store_error is not None:
            environ[STORE_ERROR] = answer.store_error
        return environ, self._call_app(environ)

    def _send_direct(
        self, key: ResponseKey, proto: Any, answer: DirectAnswer, generation: int
    ) -> None:
        proto.response_bytes(200, answer.headers, answer.body)
        self._count("GET", key[0], 200, answer.started)
        if self.cache is not None:
            stored = StoredResponse(answer.headers, answer.body, answer.etag, answer.log_fields)
            self.cache.put(key, stored, generation)
        if self.log is not None:
            cache = "hit" if answer.cache_hit else ""
            self.log("GET", key[0], 200, answer.started, len(answer.body), answer.log_fields, cache)

    def _abandoned(self, scope: Any, proto: Any, error: QueryAbandoned, started: float) -> None:
        from server import CORS_HEADERS
        from server.protocol.sparql import timeout_refusal

        message, retry_after = timeout_refusal(error, error.seconds)
        headers = [
            ("content-type", PROBLEM_JSON),
            ("retry-after", str(retry_after)),
            *CORS_HEADERS,
        ]
        body = _error(503, "Service Unavailable", message)
        proto.response_bytes(503, headers, body)
        self._count(scope.method, scope.path, 503, started)
        if self.log is not None:
            self.log(scope.method, scope.path, 503, started, len(body), {}, "")

    async def _read_body(self, proto: Any, headers: Any) -> bytes:
        length = headers.get("content-length")
        if (length is None or length.strip() == "0") and "transfer-encoding" not in headers:
            return b""
        try:
            return await asyncio.wait_for(self._collect(proto), self.read_timeout)
        except TimeoutError:
            raise _BodyTooSlow from None

    async def _collect(self, proto: Any) -> bytes:
        kept: list[bytes] = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            if size <= self.max_body + 1:
                kept.append(chunk)
            elif size > _DRAIN_LIMIT:
                break
        body = b"".join(kept)
        # Past the limit the app only needs to know the size to answer 413.
        return body if size <= self.max_body else body[: self.max_body + 1]

    def _call_app(self, environ: dict[str, Any]) -> AppAnswer:
        """Runs the app in a pool thread; a body up to `_WHOLE` bytes comes back whole, a
        longer one (a dump) as an iterator to stream."""
        captured: list[Any] = []

        def start_response(status: str, headers: Headers, exc_info: Any = None) -> None:
            captured[:] = [int(status.split(" ", 1)[0]), headers]

        result: Iterable[bytes] = self.app(environ, start_response)
        blocks: list[bytes] = []
        size = 0
        iterator = iter(result)
        for block in iterator:
            blocks.append(block)
            size += len(block)
            if size > _WHOLE:
                return captured[0], captured[1], _chain(blocks, iterator, result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return captured[0], captured[1], b"".join(blocks)

    def _remember(
        self,
        key: ResponseKey,
        environ: dict[str, Any],
        status: int,
        headers: Headers,
        body: bytes,
        generation: int,
    ) -> None:
        mark = environ.get(CACHEABLE)
        if self.cache is None or mark is None or status != 200:
            return
        etag = next((value for name, value in headers if name.lower() == "etag"), "")
        self.cache.put(key, StoredResponse(headers, body, etag.strip('"'), mark), generation)

    def _replay(self, scope: Any, proto: Any, stored: StoredResponse, started: float) -> None:
        from server.protocol.cache import etag_matches

        if etag_matches(scope.headers.get("if-none-match"), stored.etag):
            kept = [(n, v) for n, v in stored.headers if n.lower() != "content-length"]
            proto.response_empty(304, kept)
            status, size = 304, 0
        else:
            proto.response_bytes(200, stored.headers, stored.body)
            status, size = 200, len(stored.body)
        self._count(scope.method, scope.path, status, started)
        if self.log is not None:
            self.log(scope.method, scope.path, status, started, size, stored.log_fields, "hit")


def _log_event(name: str, **fields: Any) -> None:
    from server.structured_log import event

    event(name, logging.ERROR, **fields)


def _error(status: int, title: str, message: str) -> bytes:
    """An error in the app's own shape (server/errors.py), for refusals made before the app."""
    return problem_body(status, title, message)


def _chain(first: list[bytes], rest: Iterator[bytes], source: Iterable[bytes]) -> Iterator[bytes]:
    """The body's blocks, closing the app's iterable at the end (PEP 3333)."""
    try:
        yield b"".join(first)
        yield from rest
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def make_bridge(app: Flask, settings: Settings, granian_pid: int | None = None) -> RsgiBridge:
    """The RSGI app of one worker process: readies its store, then serves `app`.

    With `granian_pid` (the server's main process) and `query_isolation = "watchdog"`, cheap
    queries run in this process (server/stores/runaway.py), and a query that will not stop has the
    main process replace its workers gracefully (granian reloads them on SIGHUP). The killable
    query processes then start with the first query that needs them (most servers never do);
    otherwise they start here, before the worker accepts connections, so that no request
    waits for them.
    """
    from server.accesslog import LoopBatchedLog
    from server.front.sparql_direct import DirectGet
    from server.protocol.metrics import LoopBatch, RequestMeter

    service = app.extensions["dcdr"]
    evaluate_in_process = getattr(service.store, "evaluate_in_process", None)
    start = getattr(service.store, "start", None)
    if (
        granian_pid is not None
        and settings.query_isolation == "watchdog"
        and evaluate_in_process is not None
    ):
        evaluate_in_process(functools.partial(_reload, granian_pid))
    elif start is not None:
        start()
    # With fairness on, every answer goes through the app so that the budget is checked.
    replay = settings.cache_bytes > 0 and settings.query_budget_seconds <= 0
    counts = LoopBatch()
    counts.follow("result", service.cache)
    cache = ResponseCache(settings.cache_bytes) if replay else None
    if cache is not None:
        counts.follow("response", cache)
        # A new live build in a remote store: no answer of the build before is replayed.
        on_change = getattr(service.store, "on_change", None)
        if on_change is not None:
            on_change(cache.clear)
    return RsgiBridge(
        app,
        settings.threads,
        settings.request_read_timeout,
        settings.max_body_bytes,
        cache=cache,
        log=LoopBatchedLog() if settings.access_log else None,
        direct=DirectGet(service) if settings.query_budget_seconds <= 0 else None,
        meter=RequestMeter(app.url_map, counts),
    )


def _reload(granian_pid: int) -> None:
    with contextlib.suppress(OSError):  # the main process is gone: this worker ends anyway
        os.kill(granian_pid, signal.SIGHUP)


def _run_granian(app: Flask, settings: Settings) -> None:
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    from server.stores.cpu_placement import CpuPlacement

    main_pid = os.getpid()
    placement = CpuPlacement(settings.workers) if settings.cpu_affinity else None

    def loader(_target: str) -> RsgiBridge:
        # Called in each worker before granian starts its threads there, which inherit the
        # placement.
        if placement is not None:
            placement.claim()
        return make_bridge(app, settings, granian_pid=main_pid)

    server = Server(
        "dcdr",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        workers=settings.workers,
        # uvloop when installed (a cheaper event loop per request), else asyncio.
        loop=Loops.auto,
        # The head of a request must arrive within the same deadline as its body.
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, int(settings.request_read_timeout * 1000))
        ),
        backlog=1024,
        log_level=_log_level(),
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=5,
    )
    server.serve(target_loader=loader)


def _metrics_directory() -> None:
    """Gives the processes of this run one directory for their metrics (server/protocol/metrics.py),
    removed at exit: set before prometheus_client is imported, which reads it once."""
    if "prometheus_client" in sys.modules:
        return  # too late: a scrape then covers the one process that answers it
    directory = tempfile.mkdtemp(prefix="dcdr-metrics-")
    os.environ[METRICS_DIR_ENV] = directory
    # Worker processes leave through os._exit and never run this; only the main process does.
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


def _log_level() -> Any:
    from granian.log import LogLevels

    return LogLevels.warning


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
    from server.stores.oxigraph_store import DistError

    _metrics_directory()
    try:
        chosen = (settings or Settings.from_env()).replace(
            host=host, port=port, workers=workers, threads=threads, dev=dev
        )
        app = create_app(chosen)
    except (ConfigError, DistError, ValueError) as error:
        print(f"dcdr serve: {error}", file=sys.stderr)
        return 1
    from server import structured_log
    from server.protocol.health import known_version

    settings = app.config["DCDR_SETTINGS"]
    version = known_version(app.extensions["dcdr"].store)
    structured_log.log_start(settings, version, metrics_dir=os.environ.get(METRICS_DIR_ENV))
    started, exit_code = time.monotonic(), 0
    try:
        if chosen.dev:
            app.run(
                host=chosen.host, port=chosen.port, debug=True, use_reloader=True, threaded=True
            )
        else:
            with contextlib.suppress(KeyboardInterrupt):
                _run_granian(app, settings)
    except SystemExit as stop:  # granian's own exit (a worker it could not keep alive)
        exit_code = stop.code if isinstance(stop.code, int) else 1
        raise
    finally:
        structured_log.log_stop(started, exit_code)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.front.serving", description=__doc__)
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

"""The RSGI bridge of `server/front/serving.py`, driven with a fake granian protocol: replay of
marked answers from the event loop, 304s, the body deadline (408), the header limit (431),
WSGI environ building and streaming of long answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from types import SimpleNamespace
from typing import Any

import pytest

from server.front.serving import MAX_HEADER_BYTES, RsgiBridge, wsgi_environ
from server.front.sparql_direct import Declined, DirectAnswer
from server.protocol.cache import CACHEABLE, ResponseCache
from server.protocol.sparql import STORE_ERROR
from server.stores.runaway import QueryAbandoned, current_abandon
from server.stores.store import QuerySyntaxError

Headers = list[tuple[str, str]]


class FakeHeaders:
    def __init__(self, pairs: Headers) -> None:
        self.pairs = pairs

    def get(self, name: str, default: Any = None) -> Any:
        return next((value for key, value in self.pairs if key == name), default)

    def items(self) -> Headers:
        return list(self.pairs)

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.pairs)


class FakeProto:
    """Records what the bridge answers; yields `chunks`, pausing `pause` s before each."""

    def __init__(self, chunks: Iterable[bytes] = (), pause: float = 0.0) -> None:
        self.chunks = list(chunks)
        self.pause = pause
        self.sent: tuple[int, Headers, bytes] | None = None
        self.streamed: list[bytes] = []

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await asyncio.sleep(self.pause)
            yield chunk

    def response_bytes(self, status: int, headers: Headers, body: bytes) -> None:
        self.sent = (status, headers, body)

    def response_empty(self, status: int, headers: Headers) -> None:
        self.sent = (status, headers, b"")

    def response_stream(self, status: int, headers: Headers) -> FakeProto:
        self.sent = (status, headers, b"")
        return self

    async def send_bytes(self, data: bytes) -> None:
        self.streamed.append(data)


def scope(method: str = "GET", query: str = "query=ASK%20%7B%7D", **headers: str) -> Any:
    pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
    return SimpleNamespace(
        proto="http",
        method=method,
        path="/sparql",
        query_string=query,
        headers=FakeHeaders(pairs),
        server="127.0.0.1:8000",
        client="127.0.0.2:5000",
        scheme="http",
        http_version="1.1",
    )


class CountingApp:
    """A WSGI app that answers 200 with an ETag, marked replayable when `mark` is set."""

    def __init__(self, mark: bool = True, body: Iterable[bytes] = (b'{"boolean":true}',)) -> None:
        self.mark = mark
        self.body = body
        self.calls = 0
        self.environ: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        self.environ = environ
        if self.mark:
            environ[CACHEABLE] = {"query_hash": "abc"}
        start_response("200 OK", [("Content-Type", "application/json"), ("ETag", '"e1"')])
        return iter(self.body)


def bridge(app: CountingApp, cache: bool = True, read_timeout: float = 5.0) -> RsgiBridge:
    return RsgiBridge(
        app,
        threads=2,
        read_timeout=read_timeout,
        max_body=1024,
        cache=ResponseCache(1 << 20) if cache else None,
    )


def answer(server: RsgiBridge, request: Any, proto: FakeProto | None = None) -> FakeProto:
    proto = proto or FakeProto()
    asyncio.run(server(request, proto))
    return proto


def test_a_marked_get_is_replayed_without_the_app() -> None:
    app = CountingApp()
    server = bridge(app)
    first = answer(server, scope(accept="application/json"))
    again = answer(server, scope(accept="application/json"))
    assert (app.calls, again.sent) == (1, first.sent)


def test_a_replay_honours_if_none_match() -> None:
    server = bridge(CountingApp())
    answer(server, scope())
    revalidated = answer(server, scope(if_none_match='"e1"'))
    assert revalidated.sent is not None and revalidated.sent[0] == 304


def test_answers_not_marked_or_not_get_are_never_replayed() -> None:
    unmarked = CountingApp(mark=False)
    server = bridge(unmarked)
    answer(server, scope())
    answer(server, scope())
    posted = CountingApp()
    other = bridge(posted)
    for _ in range(2):
        answer(other, scope(method="POST", content_length="0"))
    assert (unmarked.calls, posted.calls) == (2, 2)


def test_a_body_slower_than_the_deadline_gets_408() -> None:
    server = bridge(CountingApp(), read_timeout=0.3)
    slow = FakeProto([b"query=", b"ASK"], pause=5.0)
    started = time.monotonic()
    answer(server, scope(method="POST", content_length="9"), slow)
    assert slow.sent is not None and (slow.sent[0], time.monotonic() - started < 3) == (408, True)


def test_a_header_longer_than_the_limit_gets_431_with_a_message() -> None:
    app = CountingApp()
    proto = answer(bridge(app), scope(x_huge="y" * (MAX_HEADER_BYTES + 1)))
    assert proto.sent is not None
    status, _, body = proto.sent
    assert (status, app.calls, "x-huge" in json.loads(body)["message"]) == (431, 0, True)


def test_the_body_reaches_the_app_whole_and_the_environ_is_wsgi() -> None:
    app = CountingApp(mark=False)
    proto = FakeProto([b"query=", b"ASK%20%7B%7D"])
    answer(bridge(app), scope(method="POST", content_type="x/y", content_length="18"), proto)
    environ = app.environ
    assert (
        environ["wsgi.input"].getvalue(),
        environ["CONTENT_TYPE"],
        environ["REMOTE_ADDR"],
        environ["SERVER_PORT"],
        environ["PATH_INFO"],
    ) == (b"query=ASK%20%7B%7D", "x/y", "127.0.0.2", "8000", "/sparql")


def test_a_long_answer_is_streamed_unchanged() -> None:
    blocks = [bytes([n]) * 700_000 for n in range(3)]
    proto = answer(bridge(CountingApp(mark=False, body=blocks)), scope())
    assert b"".join(proto.streamed) == b"".join(blocks)


@pytest.mark.parametrize(("path", "expected"), [("/id/国", "/id/\xe5\x9b\xbd"), ("/a b", "/a b")])
def test_the_path_is_given_as_wsgi_bytes(path: str, expected: str) -> None:
    request = scope()
    request.path = path
    assert wsgi_environ(request, b"")["PATH_INFO"] == expected


def test_a_failing_app_gets_a_500_with_a_message_not_a_trace() -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raise RuntimeError("secret internals")

    server = RsgiBridge(broken, threads=1, read_timeout=1.0, max_body=10)
    proto = answer(server, scope())
    assert proto.sent is not None
    status, _, body = proto.sent
    assert (status, "secret" in body.decode(), bool(json.loads(body)["message"])) == (
        500,
        False,
        True,
    )


class GivingUpApp:
    """A WSGI app whose first call is given up (as the watchdog gives up a query past its
    limit) and then stays busy until `release` is set; later calls answer at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        if self.calls == 1:
            abandon = current_abandon()
            assert abandon is not None
            abandon(QueryAbandoned(1.5))
            self.release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return iter([b"{}"])


def test_a_given_up_call_is_answered_503_with_the_limit_at_once() -> None:
    app = GivingUpApp()
    proto = answer(RsgiBridge(app, threads=1, read_timeout=1.0, max_body=10), scope())
    app.release.set()
    assert proto.sent is not None
    status, headers, body = proto.sent
    assert (status, dict(headers)["retry-after"], "1.5 s" in json.loads(body)["message"]) == (
        503,
        "2",
        True,
    )


def test_a_thread_busy_with_a_given_up_call_is_replaced() -> None:
    app = GivingUpApp()
    server = RsgiBridge(app, threads=1, read_timeout=1.0, max_body=10)
    answer(server, scope())
    # The only thread is still busy with the first call: a second one must answer anyway.
    proto = answer(server, scope(method="POST", content_length="0"))
    app.release.set()
    assert proto.sent is not None and proto.sent[0] == 200


class FakeDirect:
    """Stands in for server.front.sparql_direct.DirectGet."""

    PATHS = frozenset({"/sparql"})

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls = 0

    def answer(self, query_string: str, accept: str) -> Any:
        self.calls += 1
        return self.outcome


def test_a_direct_answer_is_sent_and_replayed_without_the_app() -> None:
    app = CountingApp()
    direct = FakeDirect(
        DirectAnswer(
            [("Content-Type", "text/csv"), ("ETag", '"d1"')], b"a\r\n", "d1", {}, False, 0.0
        )
    )
    server = RsgiBridge(app, threads=1, read_timeout=1.0, max_body=10, cache=ResponseCache(1 << 20))
    server.direct = direct  # type: ignore[assignment]
    first = answer(server, scope())
    again = answer(server, scope(if_none_match='"d1"'))
    assert (app.calls, direct.calls, first.sent, again.sent and again.sent[0]) == (
        0,
        1,
        (200, [("Content-Type", "text/csv"), ("ETag", '"d1"')], b"a\r\n"),
        304,
    )


def test_a_declined_request_reaches_the_app_with_the_store_error() -> None:
    app = CountingApp(mark=False)
    error = QuerySyntaxError("bad")
    server = RsgiBridge(app, threads=1, read_timeout=1.0, max_body=10)
    server.direct = FakeDirect(Declined(error))  # type: ignore[assignment]
    answer(server, scope())
    assert app.environ[STORE_ERROR] is error

"""The access log of answers given on the event loop (`server.accesslog.LoopBatchedLog`):
batched, in order, one JSON object per line, and never held back past its delay or its
worker's end."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest

from server.accesslog import LoopBatchedLog, logger
from server.front.serving import RsgiBridge
from server.protocol.cache import ResponseCache
from tests.test_serving_bridge import CountingApp, answer, scope


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def note(log: LoopBatchedLog, path: str) -> None:
    log("GET", path, 200, 0.0, 10, {"query_hash": "0123456789abcdef"}, "")


def test_answers_of_one_batch_are_one_record_of_one_line_each_in_order(
    records: Records,
) -> None:
    async def three_answers() -> None:
        log = LoopBatchedLog(max_delay=0.01)
        for path in ("/a", "/b", "/c"):
            note(log, path)
        await asyncio.sleep(0.05)

    asyncio.run(three_answers())
    assert [[json.loads(line)["path"] for line in m.splitlines()] for m in records.messages] == [
        ["/a", "/b", "/c"]
    ]


def test_a_full_batch_is_written_at_once(records: Records) -> None:
    async def two_answers() -> int:
        log = LoopBatchedLog(max_delay=60, max_entries=2)
        note(log, "/a")
        note(log, "/b")
        return len(records.messages)

    assert asyncio.run(two_answers()) == 1


def test_entry_has_the_fields_of_the_app_log(records: Records) -> None:
    log = LoopBatchedLog()

    async def one_answer() -> None:
        log("GET", "/sparql", 200, 0.0, 123, {"query_hash": "0123456789abcdef"}, "hit")
        log.flush()

    asyncio.run(one_answer())
    entry = json.loads(records.messages[0])
    assert set(entry) == {
        "time",
        "method",
        "path",
        "status",
        "duration_ms",
        "bytes",
        "query_hash",
        "cache",
    }


def test_the_bridge_writes_what_is_left_when_its_worker_stops(records: Records) -> None:
    server = RsgiBridge(
        CountingApp(),
        threads=1,
        read_timeout=1.0,
        max_body=10,
        cache=ResponseCache(1 << 20),
        log=LoopBatchedLog(max_delay=60),
    )
    answer(server, scope())
    answer(server, scope())  # replayed from the cache, and noted in the batch
    assert records.messages == []
    server.__rsgi_del__(asyncio.new_event_loop())
    assert len(records.messages) == 1

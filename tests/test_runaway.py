"""Queries evaluated in process (server/stores/runaway.py): the shared memory of shapes to keep
out of process, and the watchdog that answers for a query past its limit and has a runaway's worker
replaced."""

from __future__ import annotations

import os
import threading
import time

import pytest

from server.stores.runaway import (
    QueryAbandoned,
    ShapeMemory,
    Watchdog,
    current_abandon,
    set_abandon,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_shape_is_known() -> None:
    memory = ShapeMemory(slots=64)
    memory.remember("shape-a")
    assert "shape-a" in memory


def test_an_unknown_shape_is_not_known() -> None:
    memory = ShapeMemory(slots=64)
    memory.remember("shape-a")
    assert "shape-b" not in memory


def test_a_forgotten_shape_is_not_known() -> None:
    memory = ShapeMemory(slots=64)
    memory.remember("shape-a")
    memory.forget("shape-a")
    assert "shape-a" not in memory


def test_a_shape_is_forgotten_after_its_time() -> None:
    clock = Clock()
    memory = ShapeMemory(slots=64, seconds=60, clock=clock)
    memory.remember("shape-a")
    clock.now += 61
    assert "shape-a" not in memory


def test_a_full_table_keeps_the_newest_shape() -> None:
    clock = Clock()
    memory = ShapeMemory(slots=8, clock=clock)
    for number in range(50):
        clock.now += 1
        memory.remember(f"shape-{number}")
    assert "shape-49" in memory


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_shape_remembered_by_a_forked_worker_is_known_to_its_parent() -> None:
    memory = ShapeMemory(slots=64)
    child = os.fork()
    if child == 0:  # the child: remember and leave at once, without pytest's teardown
        memory.remember("from-the-child")
        os._exit(0)
    os.waitpid(child, 0)
    assert "from-the-child" in memory


def _watched_call(
    watchdog: Watchdog, seconds: float, runs_for: float, abandoned: list[BaseException]
) -> threading.Thread:
    """A thread that runs a 'query' of `runs_for` seconds under `watchdog` with limit
    `seconds`, as the serving layer runs one: with an abandon hook set."""

    def call() -> None:
        set_abandon(abandoned.append)
        with watchdog.watch("shape", seconds):
            time.sleep(runs_for)
        set_abandon(None)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_a_query_past_its_limit_is_answered_at_its_deadline() -> None:
    abandoned: list[BaseException] = []
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, grace=5)
    started = time.monotonic()
    _watched_call(watchdog, 0.2, 2.0, abandoned)
    while not abandoned and time.monotonic() - started < 1.5:
        time.sleep(0.01)
    assert isinstance(abandoned[0], QueryAbandoned) and time.monotonic() - started < 0.5


def test_the_timeout_message_names_the_limit() -> None:
    abandoned: list[BaseException] = []
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, grace=5)
    _watched_call(watchdog, 0.2, 0.6, abandoned).join()
    assert "0.2 s" in str(abandoned[0])


def test_a_query_past_its_limit_is_remembered() -> None:
    memory = ShapeMemory(slots=64)
    watchdog = Watchdog(memory, lambda: None, poll=0.01, grace=5)
    _watched_call(watchdog, 0.1, 0.4, []).join()
    assert "shape" in memory


def test_a_query_within_its_limit_is_neither_answered_nor_remembered() -> None:
    memory = ShapeMemory(slots=64)
    abandoned: list[BaseException] = []
    watchdog = Watchdog(memory, lambda: None, poll=0.01, grace=5)
    _watched_call(watchdog, 1.0, 0.05, abandoned).join()
    time.sleep(0.05)
    assert abandoned == [] and "shape" not in memory


def test_a_query_still_running_after_the_grace_has_its_worker_replaced() -> None:
    replaced = threading.Event()
    watchdog = Watchdog(ShapeMemory(slots=64), replaced.set, poll=0.01, grace=0.2)
    _watched_call(watchdog, 0.1, 3.0, [])
    assert replaced.wait(2.0)


def test_a_query_ending_within_the_grace_replaces_no_worker() -> None:
    replaced = threading.Event()
    watchdog = Watchdog(ShapeMemory(slots=64), replaced.set, poll=0.01, grace=1.0)
    _watched_call(watchdog, 0.1, 0.3, []).join()
    assert not replaced.wait(1.2)


def test_several_runaways_replace_the_worker_once() -> None:
    calls: list[int] = []
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: calls.append(1), poll=0.01, grace=0.1)
    for _ in range(3):
        _watched_call(watchdog, 0.05, 2.0, [])
    time.sleep(0.6)
    assert calls == [1]


def test_the_abandon_hook_belongs_to_its_thread() -> None:
    set_abandon(print)
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(current_abandon()))
    thread.start()
    thread.join()
    set_abandon(None)
    assert seen == [None]


def _niceness_while_watched(watchdog: Watchdog, runs_for: float) -> int:
    seen: list[int] = []

    def call() -> None:
        with watchdog.watch("slow-shape", 5.0):
            time.sleep(runs_for)
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    return seen[0]


def test_a_slow_query_runs_on_at_low_priority() -> None:
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, slow_after=0.1)
    assert _niceness_while_watched(watchdog, 0.4) > 0


def test_a_fast_query_keeps_its_priority() -> None:
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, slow_after=1.0)
    assert _niceness_while_watched(watchdog, 0.05) == 0


def test_a_slow_query_is_remembered() -> None:
    memory = ShapeMemory(slots=64)
    _niceness_while_watched(Watchdog(memory, lambda: None, poll=0.01, slow_after=0.1), 0.3)
    assert "slow-shape" in memory


def test_a_thread_whose_priority_cannot_be_restored_retires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.stores import runaway

    # As an unprivileged server: lowering a priority works, raising it back does not.
    monkeypatch.setattr(runaway, "_set_niceness", lambda thread, niceness: niceness > 0)
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, slow_after=0.05)
    retired: list[bool] = []

    def call() -> None:
        with watchdog.watch("shape", 5.0):
            time.sleep(0.3)
        retired.append(runaway.must_retire())

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert retired == [True]


def test_memory_is_given_back_after_a_query_of_some_size() -> None:
    released = threading.Event()
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, release_memory=released.set)
    with watchdog.watch("shape", 5.0):
        time.sleep(0.1)
    assert released.wait(2.0)


def test_a_quick_query_leaves_memory_alone() -> None:
    released = threading.Event()
    watchdog = Watchdog(ShapeMemory(slots=64), lambda: None, poll=0.01, release_memory=released.set)
    with watchdog.watch("shape", 5.0):
        pass
    assert not released.wait(0.3)

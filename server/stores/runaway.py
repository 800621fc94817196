"""Queries evaluated inside the server process, and what happens when one will not stop.

Handing every query to a killable process costs a second process hop per request, about as
much CPU as the query itself (docs/performance.md). So `dcdr serve` evaluates queries in its
own worker processes, where pyoxigraph runs them without the GIL, and keeps the killable
processes (server/stores/executor.py) for queries that look or proved expensive. pyoxigraph has no
way to cancel a running query, so a query evaluated in process is watched:

- when it outlives its time limit, its request is answered at once with a timeout
  (`QueryAbandoned`, through the hook the serving layer sets per request), and the app thread
  it holds is replaced so that the worker keeps its capacity;
- its shape (its tokens without comments) is remembered, so that the same query goes to a
  killable process from then on, in every worker;
- if it is still running a moment later, the worker process is replaced gracefully
  (`on_runaway`; under granian a reload, which starts the new worker before stopping the old),
  because only the end of the process frees the core the query holds.

A query still running after `slow_after` has its thread reniced, so that cheap queries keep the
CPU, and is remembered the same way: from then on it runs in the killable processes, reniced
and in limited slots, where it cannot starve cheap ones. After queries of some size the
watchdog thread also has the process give freed memory back (`release_memory`), which the C
allocator would otherwise keep in one arena per app thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from server.stores.shared_table import SharedTable, text_key

logger = logging.getLogger("dcdr.server")

_DEFAULT_SLOTS = 4096
_REMEMBER_SECONDS = 600.0
# As in server/stores/executor.py: about a tenth of a core next to a thread at the default priority.
_SLOW_NICENESS = 10
# Queries that ran this long may have left freed memory worth giving back (Watchdog._release,
# and the killable processes' own, server/stores/oxigraph_store.py).
LARGE_QUERY_SECONDS = 0.05
_RELEASE_INTERVAL = 1.0

Abandon = Callable[[BaseException], None]


class QueryAbandoned(Exception):
    """The query outlived its time limit; its request was answered while it still runs."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran longer than {seconds:g} s and was stopped")
        self.seconds = seconds


class ShapeMemory:
    """Query shapes to keep out of process for a while, shared by the processes forked after
    it is made (a `SharedTable`, as the fairness ledger's clients are)."""

    def __init__(
        self,
        slots: int = _DEFAULT_SLOTS,
        seconds: float = _REMEMBER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # An entry: the shape, and when it was remembered.
        self._table = SharedTable(slots, seconds, clock)

    def remember(self, shape: str) -> None:
        table = self._table
        key = text_key(shape)
        with table.lock:
            now = table.clock()
            table.write(table.claim(key, now), key, now, 0.0)

    def forget(self, shape: str) -> None:
        table = self._table
        key = text_key(shape)
        with table.lock:
            index = table.find(key)
            if index is not None:
                # Expired rather than emptied: a lookup stops at the first never-used entry,
                # so an emptied one would hide the entries probed after it.
                table.write(index, key, table.clock() - table.lifetime, 0.0)

    def __contains__(self, shape: object) -> bool:
        # Read without the lock: an entry is written in one copy, and a torn read can only make
        # a remembered query run in process once more, under the same watch.
        table = self._table
        index = table.find(text_key(str(shape)))
        if index is None:
            return False
        return table.clock() - table.read(index)[1] < table.lifetime


_request = threading.local()


def set_abandon(callback: Abandon | None) -> None:
    """Set by the serving layer around each request it runs in a thread: how to answer that
    request from another thread if its query has to be given up."""
    _request.abandon = callback


def current_abandon() -> Abandon | None:
    callback: Abandon | None = getattr(_request, "abandon", None)
    return callback


class Watch:
    """One query being evaluated in process: entered when it starts, left when it ends."""

    # Plain attributes, no locks: the watchdog only reads them, and each request sets and
    # reads a few under the GIL (this is on the path of every query).
    __slots__ = (
        "_watchdog",
        "abandon",
        "abandoned_at",
        "deadline",
        "finished",
        "reniced",
        "seconds",
        "shape",
        "slow_at",
        "started",
        "thread",
    )

    def __init__(self, watchdog: Watchdog, shape: str, seconds: float) -> None:
        self._watchdog = watchdog
        self.shape = shape
        self.seconds = seconds
        self.started = self.slow_at = self.deadline = 0.0  # set when the query starts
        self.abandon = current_abandon()
        self.abandoned_at: float | None = None
        self.finished = False
        self.reniced = False
        self.thread = threading.get_native_id()

    def __enter__(self) -> Watch:
        self.started = time.monotonic()
        self.slow_at = self.started + self._watchdog.slow_after
        self.deadline = self.started + self.seconds
        self._watchdog.watches.add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finished = True
        watchdog = self._watchdog
        watchdog.watches.discard(self)
        if time.monotonic() - self.started >= LARGE_QUERY_SECONDS:
            watchdog.heavy = True
        if self.reniced and not _set_niceness(self.thread, 0):
            # Raising a priority again needs a privilege the server may lack: then this
            # thread leaves its work to a fresh one rather than serve on at low priority.
            _request.retire = True


def _set_niceness(thread: int, niceness: int) -> bool:
    """Linux keeps a niceness per thread: this changes one thread's, not the process's."""
    try:
        os.setpriority(os.PRIO_PROCESS, thread, niceness)
    except OSError:
        return False
    return True


def must_retire() -> bool:
    """Asked by the serving layer after each call: whether this thread should end now (its
    priority was lowered and could not be restored)."""
    retire: bool = getattr(_request, "retire", False)
    return retire


class Watchdog:
    """Watches the queries evaluated in this process (one thread, polling `poll` seconds)."""

    def __init__(
        self,
        memory: ShapeMemory,
        on_runaway: Callable[[], None],
        *,
        poll: float = 0.05,
        grace: float = 1.0,
        slow_after: float = 0.5,
        release_memory: Callable[[], None] | None = None,
    ) -> None:
        self.memory = memory
        self.slow_after = slow_after
        self._on_runaway = on_runaway
        self._poll = poll
        self._grace = grace
        # Added to and taken from by request threads; copied whole by the watchdog (a set's
        # add, discard and copy are each atomic under the GIL).
        self.watches: set[Watch] = set()
        self._runaway_reported = False
        # A query of some size ended since memory was last given back (see _release).
        self.heavy = False
        self._release_memory = release_memory
        self._released = 0.0
        self._thread = threading.Thread(target=self._run, name="dcdr-watchdog", daemon=True)
        self._thread.start()

    def watch(self, shape: str, seconds: float) -> Watch:
        """`with watchdog.watch(shape, seconds): …` around the evaluation of one query."""
        return Watch(self, shape, seconds)

    @property
    def running(self) -> int:
        return len(self.watches)

    def _run(self) -> None:
        while True:
            time.sleep(self._poll)
            now = time.monotonic()
            if self.heavy and now - self._released >= _RELEASE_INTERVAL:
                self._release(now)
            for entry in list(self.watches):
                if entry.finished:
                    continue
                if not entry.reniced and now >= entry.slow_at:
                    self._slow(entry)
                if entry.abandoned_at is None and now >= entry.deadline:
                    self._give_up(entry, now)
                elif entry.abandoned_at is not None and now - entry.abandoned_at >= self._grace:
                    self._runaway(entry)

    def _slow(self, entry: Watch) -> None:
        # Cheap queries keep the CPU: the slow one runs on at low priority, and is sent to the
        # killable processes next time.
        entry.reniced = _set_niceness(entry.thread, _SLOW_NICENESS)
        self.memory.remember(entry.shape)

    def _give_up(self, entry: Watch, now: float) -> None:
        entry.abandoned_at = now
        self.memory.remember(entry.shape)
        if entry.abandon is not None:
            entry.abandon(QueryAbandoned(entry.seconds))

    def _release(self, now: float) -> None:
        # A large answer or a sort leaves freed memory in the allocator's arenas (one per
        # thread that ran a query), which the process would keep; given back here, off the
        # request threads, at most once per interval.
        self.heavy = False
        self._released = now
        if self._release_memory is not None:
            self._release_memory()

    def _runaway(self, entry: Watch) -> None:
        self.watches.discard(entry)
        if self._runaway_reported:
            return
        self._runaway_reported = True
        logger.warning(
            "a query still ran %.1f s past its time limit; replacing this worker process",
            self._grace,
        )
        self._on_runaway()

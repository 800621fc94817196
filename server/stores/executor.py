"""Killable worker processes for queries.

Neither pyoxigraph nor rdflib can be interrupted inside a query, so the only hard time limit is
to run the query in another process and kill that process when the limit passes. Each server
process keeps a small pool; a killed or crashed worker is replaced, and the other workers keep
answering meanwhile. Requests and answers cross a `multiprocessing` Pipe as pickled tuples of
plain values and bytes (cheap next to any query).

Workers are forked from a `forkserver`, which forks from a clean single-threaded process: the
server process itself runs threads (the app threads of server/front/serving.py), and forking a
threaded process is unsafe.

Expensive queries must not starve cheap ones (see docs/reliability.md). A job still running
after `slow_after` seconds is remembered as expensive (by a hash of the job) and its worker is
reniced, so that cheap queries keep the CPU; a job remembered as expensive may run only while
fewer than `expensive_slots` expensive jobs run in this process, and is otherwise refused at
once (`WorkerBusy`) instead of holding a worker and a server thread for its whole time limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import multiprocessing
import os
import pickle
import queue
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from server.stores.cpu_placement import allowed_cpus, unpin

# A worker's life: `init(*args)` once (e.g. open the store), then `handle(state, job)` per job.
InitFunction = Callable[..., Any]
HandleFunction = Callable[[Any, Any], Any]

_READY = "ready"
# A reniced worker gets about a tenth of a core next to a worker at the default priority.
_EXPENSIVE_NICENESS = 10
_REMEMBERED_JOBS = 1024
_REMEMBER_SECONDS = 600.0


class WorkerTimeout(Exception):
    """The job ran past its limit; its worker was killed and replaced."""


class WorkerBusy(WorkerTimeout):
    """The job is known to be expensive and as many expensive jobs as allowed already run."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WorkerFailed(Exception):
    """A worker could not start or died while running a job."""


def job_key(job: Any) -> str:
    """Names a job by its content, so that a repeated expensive job is recognised."""
    try:
        data = pickle.dumps(job, protocol=4)
    except (pickle.PicklingError, TypeError, AttributeError):
        data = repr(job).encode("utf-8", errors="replace")
    return hashlib.sha256(data).hexdigest()


class ExpensiveJobs:
    """Jobs that ran longer than the pool's `slow_after`, remembered for a while (LRU)."""

    def __init__(self, size: int = _REMEMBERED_JOBS, seconds: float = _REMEMBER_SECONDS) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size
        self._seconds = seconds
        self._lock = threading.Lock()

    def remember(self, key: str) -> None:
        with self._lock:
            self._seen[key] = time.monotonic()
            self._seen.move_to_end(key)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            seen = self._seen.get(str(key))
            if seen is None:
                return False
            if time.monotonic() - seen > self._seconds:
                del self._seen[str(key)]
                return False
            return True


def _worker_main(
    conn: Connection,
    init: InitFunction,
    init_args: tuple[Any, ...],
    handle: HandleFunction,
    cpus: frozenset[int],
) -> None:
    # Forked (through the fork server) from a server worker, this process inherits the CPU
    # that worker is pinned to; a long query must not be confined there.
    unpin(cpus)
    try:
        state = init(*init_args)
    except Exception as error:  # reported to the parent, which refuses to use the pool
        conn.send(("error", f"{type(error).__name__}: {error}"))
        return
    conn.send((_READY, None))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the server process is gone
        try:
            answer = handle(state, job)
        except Exception as error:
            # A job that makes the handler raise must cost an answer, not the worker: a dead
            # worker is a 5xx for this request and a restart for the pool.
            answer = ("error", f"{type(error).__name__}: {error}")
        conn.send(answer)


class _Worker:
    def __init__(
        self,
        context: Any,
        init: InitFunction,
        init_args: tuple[Any, ...],
        handle: HandleFunction,
        start_timeout: float,
        cpus: frozenset[int],
    ) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, init, init_args, handle, cpus), daemon=True
        )
        self.process.start()
        child.close()
        self._start_timeout = start_timeout
        # One poll object per worker: `Connection.poll` builds a selector on every call.
        self._poller = select.poll()
        self._poller.register(self.conn.fileno(), select.POLLIN)

    def wait(self, timeout: float) -> bool:
        """True when the worker has answered (or died) within `timeout` seconds."""
        return bool(self._poller.poll(max(0, math.ceil(timeout * 1000))))

    def wait_ready(self) -> None:
        start_timeout = self._start_timeout
        if not self.conn.poll(start_timeout):
            self.kill()
            raise WorkerFailed(f"a query worker did not start within {start_timeout:g} s")
        try:
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise WorkerFailed("a query worker exited while starting") from None
        if status != _READY:
            self.kill()
            raise WorkerFailed(f"a query worker could not start: {detail}")

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=5)
        with contextlib.suppress(Exception):
            self.conn.close()

    def renice(self) -> None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.process.pid or 0, _EXPENSIVE_NICENESS)

    def restore_priority(self) -> bool:
        """False when the OS refuses (raising priority needs privileges outside root)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid or 0, 0)
        except OSError:
            return False
        return True


class ProcessPool:
    """A fixed number of worker processes; `run` gives one job to an idle worker."""

    def __init__(
        self,
        size: int,
        init: InitFunction,
        init_args: tuple[Any, ...],
        handle: HandleFunction,
        *,
        preload: tuple[str, ...] = (),
        start_timeout: float = 30.0,
        slow_after: float = 0.5,
        expensive_slots: int = 0,
    ) -> None:
        self.size = size
        self._init = init
        self._init_args = init_args
        self._handle = handle
        self._preload = preload
        self._start_timeout = start_timeout
        # Made in the server's main process, before its workers are pinned to their CPUs.
        self._cpus = allowed_cpus()
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._started = False
        self._context: Any = None
        self.replaced = 0
        self.slow_after = slow_after
        # At least one worker always stays free of remembered expensive jobs.
        slots = expensive_slots if expensive_slots > 0 else max(1, size // 4)
        self._expensive_slots = threading.BoundedSemaphore(min(slots, max(1, size - 1)))
        self.expensive = ExpensiveJobs()

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> None:
        """Starts the workers (idempotent); called in each granian worker, or on first use."""
        with self._lock:
            if self._started:
                return
            self._context = multiprocessing.get_context("forkserver")
            if self._preload:
                self._context.set_forkserver_preload(list(self._preload))
            # Started together and then awaited, so that the pool is ready in one start-up time.
            workers = [self._new_worker() for _ in range(self.size)]
            for worker in workers:
                worker.wait_ready()
                self._idle.put(worker)
            self._started = True

    def _new_worker(self) -> _Worker:
        return _Worker(
            self._context,
            self._init,
            self._init_args,
            self._handle,
            self._start_timeout,
            self._cpus,
        )

    def _spawn(self) -> _Worker:
        worker = self._new_worker()
        worker.wait_ready()
        return worker

    def run(self, job: Any, timeout: float) -> Any:
        """The worker's answer to `job`, or `WorkerTimeout` after `timeout` seconds
        (`WorkerBusy` at once for a remembered expensive job when no slot is free)."""
        if not self._started:
            self.start()
        key = job_key(job)
        known = key in self.expensive
        if known and not self._expensive_slots.acquire(blocking=False):
            raise WorkerBusy(
                "this query ran for long recently and the server is already running as many "
                "long queries as it allows; retry in a few seconds",
                retry_after=max(1.0, min(timeout, 60.0)),
            )
        try:
            return self._run(job, key, known, timeout)
        finally:
            if known:
                self._expensive_slots.release()

    def _run(self, job: Any, key: str, known: bool, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        worker: _Worker | None
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise WorkerTimeout("every query worker stayed busy for the whole time limit") from None
        reniced = False
        try:
            worker.conn.send(job)
            sent = time.monotonic()
            ready = False
            if known:
                worker.renice()
                reniced = True
            elif worker.wait(max(0.0, min(self.slow_after, deadline - sent))):
                ready = True  # the common case: one wait, no second poll
            else:
                self.expensive.remember(key)
                worker.renice()
                reniced = True
            remaining = max(0.0, deadline - time.monotonic())
            if not ready and not worker.wait(remaining):
                self.expensive.remember(key)
                self._replace(worker)
                worker = None
                raise WorkerTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            answer = worker.conn.recv()
            if known and time.monotonic() - sent < self.slow_after:
                self.expensive.forget(key)
            if reniced and not worker.restore_priority():
                # An unprivileged server cannot undo the renice: a fresh worker takes its place.
                self._replace_later(worker)
                worker = None
        except (EOFError, OSError, BrokenPipeError):
            if worker is not None:
                self._replace(worker)
                worker = None
            raise WorkerFailed(
                "the process running this query died (killed or crashed) and was replaced; "
                "the query was not answered, retry it"
            ) from None
        finally:
            if worker is not None:
                self._idle.put(worker)
        return answer

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self.replaced += 1
        # On failure keep serving with one worker fewer; the next `run` may find a live one.
        with contextlib.suppress(WorkerFailed):
            self._idle.put(self._spawn())

    def _replace_later(self, worker: _Worker) -> None:
        """Replaces a worker without making the current request wait for the new one."""
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()

    def close(self) -> None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            worker.kill()

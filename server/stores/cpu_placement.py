"""Each granian worker process on CPUs of its own (nginx's `worker_cpu_affinity auto`).

A worker runs its event loop, its app threads and pyoxigraph's evaluation, handing requests
and the GIL from thread to thread several times per request. Left to the scheduler, those
threads wander between all the cores, and each hand-off may wake a thread on another core,
whose caches then hold nothing of the request. Kept on one core per worker (the default of
two workers on two cores), the server answered 7 % more of the distinct-query mix (median of
six paired runs, docs/performance.md).

The CPUs the server may use are split into one group per worker. A worker takes the group of
a worker that has ended (granian replaces a worker that crashed), or, while granian replaces
its workers one after the other on a reload, the groups in turn; so the groups stay one per
live worker. With more workers than CPUs nothing is pinned: a group would have to be shared.
The killable query processes are not workers: they undo the pinning they inherit (`unpin`),
so that a long query is not confined to one worker's core.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable


def allowed_cpus() -> frozenset[int]:
    """The CPUs this process may run on (empty where the platform does not say)."""
    if not hasattr(os, "sched_getaffinity"):
        return frozenset()
    return frozenset(os.sched_getaffinity(0))


def cpu_groups(cpus: Iterable[int], workers: int) -> list[frozenset[int]]:
    """`cpus` in `workers` groups of consecutive CPUs, as even as they divide; no groups when
    there are fewer CPUs than workers, or a single worker (which then keeps every CPU)."""
    ordered = sorted(cpus)
    if workers < 2 or len(ordered) < workers:
        return []
    size = len(ordered)
    return [
        frozenset(ordered[index * size // workers : (index + 1) * size // workers])
        for index in range(workers)
    ]


def pin_process(cpus: frozenset[int]) -> None:
    """Every thread of this process on `cpus`; threads started later inherit it."""
    for task in os.listdir("/proc/self/task"):
        # A thread may end meanwhile.
        with contextlib.suppress(ProcessLookupError, FileNotFoundError):
            os.sched_setaffinity(int(task), cpus)


class CpuPlacement:
    """Made in the server's main process before granian forks; `claim` in each worker."""

    def __init__(
        self,
        workers: int,
        cpus: Iterable[int] | None = None,
        pin: Callable[[frozenset[int]], None] = pin_process,
        alive: Callable[[int], bool] | None = None,
    ) -> None:
        # Imported here, in the server's main process: the killable query processes import
        # this module too, and must start without the build's modules.
        from graph.dumps import pid_alive

        self.groups = cpu_groups(allowed_cpus() if cpus is None else cpus, workers)
        self._pin = pin
        self._alive = pid_alive if alive is None else alive
        # Shared by the workers forked after this: the pid holding each group (0: none), and
        # how many claims were made.
        context = multiprocessing.get_context("fork")
        self._holders = context.Array("q", max(1, len(self.groups)))
        self._claims = context.Value("q", 0, lock=False)

    def claim(self, pid: int | None = None) -> frozenset[int] | None:
        """Pins the calling worker to a group and returns it (None when there are no groups).

        A group no live worker holds comes first. When every group is held, granian is
        replacing its workers: it starts each replacement before it stops the worker replaced,
        one worker after the other, so the groups are handed out in turn."""
        if not self.groups:
            return None
        me = os.getpid() if pid is None else pid
        with self._holders.get_lock():
            holders: list[int] = self._holders[:]
            index = next(
                (
                    number
                    for number, holder in enumerate(holders)
                    if holder in (0, me) or not self._alive(holder)
                ),
                self._claims.value % len(self.groups),
            )
            self._claims.value += 1
            self._holders[index] = me
        group = self.groups[index]
        self._pin(group)
        return group


def unpin(cpus: frozenset[int]) -> None:
    """Back on `cpus` (every CPU the server was given), for a process forked from a worker."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)

"""A fixed table in memory shared by the server's processes: the fairness ledger's clients
(server/stores/fairness.py) and the query shapes kept out of process (server/stores/runaway.py).

It lives in an anonymous shared memory map made before the server forks its worker processes
(`mmap(-1, …)` is MAP_SHARED), so every worker reads and writes the same entries, under one
process-shared lock. There is no growth and no eviction thread: an entry is found by hash with
a short linear probe, and an entry older than `lifetime` may be taken by another key.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import struct
import time
from collections.abc import Callable

# One entry: key (0 = never used), stamp (monotonic seconds, which Linux keeps system-wide, so
# every process reads the same clock), and a value for the table's owner.
_ENTRY = struct.Struct("<Qdd")
PROBES = 16


def text_key(text: str) -> int:
    """A non-zero 64-bit name for a text (a client address, a query shape)."""
    digest = hashlib.blake2b(text.encode("utf-8", errors="replace"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


class SharedTable:
    """Entries of (key, stamp, value); `lock` guards every change made across processes."""

    def __init__(
        self, slots: int, lifetime: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.slots = max(slots, PROBES)
        self.lifetime = lifetime
        self.clock = clock
        self._memory = mmap.mmap(-1, self.slots * _ENTRY.size)
        self.lock = multiprocessing.get_context("fork").Lock()

    def read(self, index: int) -> tuple[int, float, float]:
        key, stamp, value = _ENTRY.unpack_from(self._memory, index * _ENTRY.size)
        return int(key), float(stamp), float(value)

    def write(self, index: int, key: int, stamp: float, value: float) -> None:
        _ENTRY.pack_into(self._memory, index * _ENTRY.size, key, stamp, value)

    def find(self, key: int) -> int | None:
        """The index of `key`'s entry, or None."""
        home = key % self.slots
        for step in range(PROBES):
            index = (home + step) % self.slots
            found = self.read(index)[0]
            if found == key:
                return index
            if found == 0:
                return None  # entries are never emptied: nothing of this key lies beyond
        return None

    def claim(self, key: int, now: float) -> int:
        """The index of `key`'s entry; if it has none, a never-used, expired or else the oldest
        entry of its probe, written as (key, now, 0). Call it holding `lock`."""
        home = key % self.slots
        reusable: int | None = None
        oldest: tuple[float, int] | None = None
        for step in range(PROBES):
            index = (home + step) % self.slots
            found, stamp, _ = self.read(index)
            if found == key:
                return index
            if found == 0 or now - stamp >= self.lifetime:
                if reusable is None:
                    reusable = index
                if found == 0:
                    break  # nothing of this key lies beyond a never-used entry
            elif oldest is None or stamp < oldest[0]:
                oldest = (stamp, index)
        if reusable is not None:
            index = reusable
        else:
            assert oldest is not None  # every probed entry is live, so one is the oldest
            index = oldest[1]
        self.write(index, key, now, 0.0)
        return index

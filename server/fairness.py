"""Per-client fairness, as Wikidata's query service does it: each client may spend a budget of
query seconds per window (a minute by default); past it, its queries get 429 with `Retry-After`
until its window ends, while other clients are served as usual.

Clients are told apart by IP address. Behind a reverse proxy every request comes from the
proxy, so the operator may name the header the proxy sets (`DCDR_TRUSTED_PROXY_HEADER`, e.g.
`X-Forwarded-For`); its last entry is the address the proxy saw, which a client cannot forge.
Without that setting the header is ignored, so a client cannot escape its budget by sending it.

The ledger lives in an anonymous shared memory map created before the server forks its worker
processes, so every worker process charges and reads the same counters, under one
process-shared lock.
It is a fixed table (no growth, no eviction thread): a client's entry is found by hash with
a short linear probe, and an entry whose window has ended may be taken by another client.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import struct
import time
from collections.abc import Callable

# One entry: client hash (0 = free), window start (monotonic seconds), seconds spent.
_ENTRY = struct.Struct("<Qdd")
_PROBES = 16
DEFAULT_SLOTS = 4096


def client_key(client: str) -> int:
    """A non-zero 64-bit name for a client address."""
    digest = hashlib.blake2b(client.encode("utf-8", errors="replace"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def client_address(remote_addr: str | None, headers: dict[str, str], trusted_header: str) -> str:
    """The client's address: the trusted proxy header's last entry if configured and present,
    else the peer address of the connection."""
    if trusted_header:
        wanted = trusted_header.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), "")
        entries = [part.strip() for part in value.split(",") if part.strip()]
        if entries:
            return entries[-1]
    return remote_addr or "unknown"


class Ledger:
    """Query seconds per client and window, shared by the processes forked after it is made."""

    def __init__(
        self,
        budget: float,
        window: float = 60.0,
        slots: int = DEFAULT_SLOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if budget <= 0 or window <= 0 or slots < _PROBES:
            raise ValueError("a ledger needs a positive budget and window and enough slots")
        self.budget = budget
        self.window = window
        self._slots = slots
        self._clock = clock
        # mmap(-1, …) is MAP_SHARED: forked children write to the same pages as the parent.
        self._memory = mmap.mmap(-1, slots * _ENTRY.size)
        self._lock = multiprocessing.get_context("fork").Lock()

    def _read(self, index: int) -> tuple[int, float, float]:
        key, start, spent = _ENTRY.unpack_from(self._memory, index * _ENTRY.size)
        return int(key), float(start), float(spent)

    def _write(self, index: int, key: int, start: float, spent: float) -> None:
        _ENTRY.pack_into(self._memory, index * _ENTRY.size, key, start, spent)

    def _find(self, key: int, now: float, create: bool) -> int | None:
        """The entry of `key`; with `create`, a free, expired or else the oldest entry."""
        home = key % self._slots
        reusable: int | None = None
        oldest: tuple[float, int] | None = None
        for step in range(_PROBES):
            index = (home + step) % self._slots
            found, start, _ = self._read(index)
            if found == key:
                return index
            if found == 0 or now - start >= self.window:
                if reusable is None:
                    reusable = index
            elif oldest is None or start < oldest[0]:
                oldest = (start, index)
        if not create:
            return None
        if reusable is not None:
            index = reusable
        else:
            assert oldest is not None  # every probed entry is live, so one is the oldest
            index = oldest[1]
        self._write(index, key, now, 0.0)
        return index

    def retry_after(self, client: str) -> float:
        """0 when the client may run a query now, else the seconds until its window ends."""
        key = client_key(client)
        with self._lock:
            now = self._clock()
            index = self._find(key, now, create=False)
            if index is None:
                return 0.0
            _, start, spent = self._read(index)
            if now - start >= self.window or spent < self.budget:
                return 0.0
            return max(0.0, start + self.window - now)

    def charge(self, client: str, seconds: float) -> float:
        """Adds query seconds to the client's window; returns what it has spent in it."""
        key = client_key(client)
        with self._lock:
            now = self._clock()
            index = self._find(key, now, create=True)
            assert index is not None  # create=True always yields an entry
            _, start, spent = self._read(index)
            if now - start >= self.window:
                start, spent = now, 0.0
            spent += max(0.0, seconds)
            self._write(index, key, start, spent)
            return spent

    def spent(self, client: str) -> float:
        """Seconds the client spent in its current window (0 when it has none)."""
        key = client_key(client)
        with self._lock:
            now = self._clock()
            index = self._find(key, now, create=False)
            if index is None:
                return 0.0
            _, start, spent = self._read(index)
            return 0.0 if now - start >= self.window else spent

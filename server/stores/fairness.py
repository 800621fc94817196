"""Per-client fairness, as Wikidata's query service does it: each client may spend a budget of
query seconds per window (a minute by default); past it, its queries get 429 with `Retry-After`
until its window ends, while other clients are served as usual.

Clients are told apart by IP address. Behind a reverse proxy every request comes from the
proxy, so the operator may name the header the proxy sets (`DCDR_TRUSTED_PROXY_HEADER`, e.g.
`X-Forwarded-For`); its last entry is the address the proxy saw, which a client cannot forge.
Without that setting the header is ignored, so a client cannot escape its budget by sending it.

The ledger is a `SharedTable` (server/stores/shared_table.py) made before the server forks its
worker processes, so every worker process charges and reads the same counters; an entry whose window
has ended may be taken by another client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from server.stores.shared_table import PROBES, SharedTable, text_key

DEFAULT_SLOTS = 4096


def client_key(client: str) -> int:
    """A non-zero 64-bit name for a client address."""
    return text_key(client)


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
        if budget <= 0 or window <= 0 or slots < PROBES:
            raise ValueError("a ledger needs a positive budget and window and enough slots")
        self.budget = budget
        self.window = window
        # An entry: the client, its window's start, and the seconds it spent in that window.
        self._table = SharedTable(slots, window, clock)

    def retry_after(self, client: str) -> float:
        """0 when the client may run a query now, else the seconds until its window ends."""
        start, spent = self._window(client)
        if spent < self.budget:
            return 0.0
        return max(0.0, start + self.window - self._table.clock())

    def charge(self, client: str, seconds: float) -> float:
        """Adds query seconds to the client's window; returns what it has spent in it."""
        table = self._table
        key = client_key(client)
        with table.lock:
            now = table.clock()
            index = table.claim(key, now)
            _, start, spent = table.read(index)
            if now - start >= self.window:
                start, spent = now, 0.0
            spent += max(0.0, seconds)
            table.write(index, key, start, spent)
            return spent

    def spent(self, client: str) -> float:
        """Seconds the client spent in its current window (0 when it has none)."""
        return self._window(client)[1]

    def _window(self, client: str) -> tuple[float, float]:
        """The start of the client's current window and its seconds spent in it (0, 0 when it
        has none)."""
        table = self._table
        with table.lock:
            index = table.find(client_key(client))
            if index is None:
                return 0.0, 0.0
            _, start, spent = table.read(index)
            if table.clock() - start >= self.window:
                return 0.0, 0.0
            return start, spent

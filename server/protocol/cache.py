"""HTTP caching of answers.

The dataset does not change between builds, so an answer is a function of the dataset version
and the request: the ETag is a hash of both, a client's `If-None-Match` is answered 304 without
running the query, and recent answers are kept in a small in-process LRU bounded in bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from server.stores.store import QueryResult

# Fixed cost of one entry on top of its body (key, headers, bookkeeping), so that many tiny
# answers still count against the bound.
_ENTRY_OVERHEAD = 512

# What the endpoint leaves in the WSGI environ when its answer may be replayed to any client
# sending the same GET with the same Accept: the access log's fields of the request.
CACHEABLE = "dcdr.cacheable"

K = TypeVar("K")
V = TypeVar("V")


def request_key(version: str, query: str, dataset: tuple[str, ...], media: str) -> str:
    """The identity of an answer: dataset version, query text, dataset and media type(s)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (version, query.strip(), "\x1f".join(dataset), media):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` names this ETag (strong or weak) or is `*`."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        value = value.removeprefix("W/")
        if value.strip('"') == etag:
            return True
    return False


class _ByteBoundedLRU(Generic[K, V]):
    """Least-recently-used entries, at most `max_bytes` in total (0 disables it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        # Bumped by `clear`: an answer computed before a clear (under the graph version before)
        # must not be stored after it (`put(..., generation=…)`).
        self.generation = 0

    @staticmethod
    def _cost(value: V) -> int:
        raise NotImplementedError

    def clear(self, *_: object) -> None:
        """Forgets every entry (the graph version changed: server/stores/live_version.py)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.generation += 1

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        cost = self._cost(value)
        if cost > self.max_bytes // 4:
            # One large answer would evict most of the cache for little gain.
            return
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= self._cost(previous)
            self._entries[key] = value
            self._bytes += cost
            while self._bytes > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= self._cost(evicted)


class ResultCache(_ByteBoundedLRU[str, QueryResult]):
    """Answers by `request_key` (any method, any spelling of the same request)."""

    @staticmethod
    def _cost(value: QueryResult) -> int:
        return len(value.body) + _ENTRY_OVERHEAD


@dataclass(frozen=True)
class StoredResponse:
    """A whole 200 answer to a GET, replayed byte for byte by the server (server.front.serving)."""

    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    # What the access log says of the request (the query's hash, its text when asked for).
    log_fields: dict[str, str] = field(default_factory=dict)


# (path, raw query string, Accept header): the answer depends on nothing else, because the
# endpoint marks only answers that vary by Accept alone as replayable.
ResponseKey = tuple[str, str, str]


class ResponseCache(_ByteBoundedLRU[ResponseKey, StoredResponse]):
    """Whole answers by the exact request line and Accept header, for the server's fast path."""

    @staticmethod
    def _cost(value: StoredResponse) -> int:
        # Headers are a few hundred bytes: counted in the fixed overhead.
        return len(value.body) + 2 * _ENTRY_OVERHEAD

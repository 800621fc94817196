"""HTTP caching of answers.

The dataset does not change between builds, so an answer is a function of the dataset version
and the request: the ETag is a hash of both, a client's `If-None-Match` is answered 304 without
running the query, and recent answers are kept in a small in-process LRU bounded in bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from server.store import QueryResult

# Fixed cost of one entry on top of its body (key, headers, bookkeeping), so that many tiny
# answers still count against the bound.
_ENTRY_OVERHEAD = 512


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


class ResultCache:
    """Least-recently-used answers, at most `max_bytes` in total (0 disables it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, QueryResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> QueryResult | None:
        with self._lock:
            result = self._entries.get(key)
            if result is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return result

    def put(self, key: str, result: QueryResult) -> None:
        cost = len(result.body) + _ENTRY_OVERHEAD
        if cost > self.max_bytes // 4:
            # One large answer would evict most of the cache for little gain.
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body) + _ENTRY_OVERHEAD
            self._entries[key] = result
            self._bytes += cost
            while self._bytes > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body) + _ENTRY_OVERHEAD

"""A small bounded map with expiry, for what the channel must remember only for a while.

Retries of a push arrive within ~15 s, a follower picks a numbered option within minutes:
entries older than that are useless, and a flood of distinct messages must not grow memory
without bound, so both an age and a size limit apply.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        self._evict_expired()
        entry = self._entries.get(key)
        return entry[1] if entry is not None else None

    def put(self, key: K, value: V) -> None:
        """Store (or refresh) `key`; the oldest entries make room when the cache is full."""
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._evict_expired()
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        return entry[1] if entry is not None else None

    def __len__(self) -> int:
        self._evict_expired()
        return len(self._entries)

    def _evict_expired(self) -> None:
        # Insertion order is expiry order (one TTL, refreshed keys move to the end).
        now = self._clock()
        while self._entries:
            key, (expires_at, _) = next(iter(self._entries.items()))
            if expires_at > now:
                break
            del self._entries[key]

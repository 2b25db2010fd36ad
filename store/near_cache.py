"""A per-process copy of hot cached responses, in front of Redis (see :mod:`api.cache`).

A cache key embeds the stamp of the data it was computed from, so a body found under a key is
never stale: it can be kept in the process for as long as the stamps themselves are trusted
(``TRACKLIST_CACHE_STAMP_SECONDS``). A hot tracklist or search then costs Redis one GET per
second per worker instead of one per request. ``DELETE /tracklist/cache`` empties the
process that serves it at once and the others within that moment, as for stamps.

Hits served here are counted in the process and added to Redis's counters by the next lookup
of the same kind that goes to Redis, or when ``/admin/stats`` reads them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

# Bodies are a few kB (a search page, a tracklist); this bounds the memory per worker.
MAX_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 10_000


class NearCache:
    """Bodies by cache key, each until its deadline; thread-safe and bounded by size."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._values: dict[str, tuple[float, bytes]] = {}
        self._bytes = 0
        self._max_bytes = max_bytes
        self._pending_hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The body kept under ``key``, or ``None`` when absent or expired."""
        found = self._values.get(key)  # a dict read is atomic: no lock on the hot path
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    def put(self, key: str, body: bytes, seconds: float) -> None:
        """Keep ``body`` for ``seconds``."""
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            if self._bytes + len(body) > self._max_bytes or len(self._values) >= MAX_ENTRIES:
                # Simpler than LRU, and cheap: each key costs one Redis GET to come back.
                self._values.clear()
                self._bytes = 0
            self._values[key] = (time.monotonic() + seconds, body)
            self._bytes += len(body)

    def clear(self) -> None:
        """Forget every body (the Redis cache was cleared)."""
        with self._lock:
            self._values.clear()
            self._bytes = 0

    def count_hit(self, kind: str) -> None:
        """Remember a hit served here, to be added to Redis's counters later."""
        with self._lock:
            self._pending_hits[kind] += 1

    def take_hits(self, kind: str) -> int:
        """The hits of ``kind`` not yet counted in Redis; they are now the caller's to count."""
        with self._lock:
            return self._pending_hits.pop(kind, 0)

    def give_back_hits(self, kind: str, hits: int) -> None:
        """Hits taken but not counted (Redis failed): count them next time."""
        if hits:
            with self._lock:
                self._pending_hits[kind] += hits

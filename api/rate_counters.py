"""Fixed-window rate-limit counters in Redis, kept per process while Redis is unreachable.

Flask-free: :mod:`api.ratelimit` decides which limit and which key a request counts against;
this module only counts. The counting is the ``limits`` library's fixed-window strategy (the
engine flask-limiter drives), one Lua round trip to Redis per limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

# While Redis is down, how often one request tries it again (a refused connection costs
# nothing; an unreachable host costs the connect timeout, once per interval per process).
RECOVERY_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """A limit a request went over, and how long the client should wait."""

    limit: RateLimitItem
    retry_after: int


def retry_after_seconds(window_reset: float, now: float, window_seconds: int) -> int:
    """Whole seconds until a window that ends at ``window_reset`` (epoch seconds) has ended.

    The Redis storage derives ``window_reset`` from ``TTL``, which Redis rounds to the nearest
    second: the window may really end up to half a second later. Rounding that up makes the
    answer safe to wait for, and a 429 never says "retry after 0 seconds"; no window outlasts
    its length (``window_seconds``), which bounds the rounding from above.
    """
    return max(1, min(window_seconds, math.ceil(window_reset + 0.5 - now)))


class RateCounters:
    """Counts hits per key against limits, in shared storage with a per-process fallback.

    ``redis_url`` is the shared Redis, or ``None`` to count in this process only (embedded
    mode). When the shared storage fails, counting moves to memory at
    once (the request that saw the failure is counted there, never answered with an error)
    and goes back to the shared storage when it answers a ping again.
    """

    def __init__(self, redis_url: str | None, *, key_prefix: str = "LIMITS") -> None:
        self._shared: FixedWindowRateLimiter | None = None
        self._shared_storage: RedisStorage | None = None
        if redis_url is not None:
            self._shared_storage = RedisStorage(
                redis_url, key_prefix=key_prefix, socket_connect_timeout=1, socket_timeout=2
            )
            self._shared = FixedWindowRateLimiter(self._shared_storage)
        self._local = FixedWindowRateLimiter(MemoryStorage())
        self._shared_down_until: float | None = None  # monotonic time of the next retry
        self._lock = threading.Lock()

    def hit(self, limits: tuple[RateLimitItem, ...], *identifiers: str) -> Refusal | None:
        """Count one hit against each limit; the first limit it goes over, or ``None``."""
        strategy = self._strategy()
        try:
            return self._hit(strategy, limits, identifiers)
        except Exception:
            if strategy is self._local:
                raise
            log.warning(
                "rate-limit storage unreachable: counting in this process until it is back",
                exc_info=True,
            )
            self._shared_down_until = time.monotonic() + RECOVERY_CHECK_SECONDS
            return self._hit(self._local, limits, identifiers)

    def _strategy(self) -> FixedWindowRateLimiter:
        if self._shared is None:
            return self._local
        if self._shared_down_until is None:
            return self._shared
        if time.monotonic() < self._shared_down_until or not self._lock.acquire(blocking=False):
            return self._local
        try:  # one thread per process asks whether the storage is back
            self._shared_down_until = time.monotonic() + RECOVERY_CHECK_SECONDS
            assert self._shared_storage is not None
            if self._shared_storage.check():
                log.info("rate-limit storage is back: counting there again")
                self._shared_down_until = None
                return self._shared
            return self._local
        finally:
            self._lock.release()

    def _hit(
        self,
        strategy: FixedWindowRateLimiter,
        limits: tuple[RateLimitItem, ...],
        identifiers: tuple[str, ...],
    ) -> Refusal | None:
        for limit in limits:
            if not strategy.hit(limit, *identifiers):
                return Refusal(limit, self._retry_after(strategy, limit, identifiers))
        return None

    @staticmethod
    def _retry_after(
        strategy: FixedWindowRateLimiter, limit: RateLimitItem, identifiers: tuple[str, ...]
    ) -> int:
        window_seconds = limit.get_expiry()
        try:
            reset = strategy.get_window_stats(limit, *identifiers).reset_time
        except Exception:  # the storage failed since the hit: a whole window is safe to wait
            log.warning("rate-limit window unavailable; Retry-After is the window", exc_info=True)
            return window_seconds
        return retry_after_seconds(reset, time.time(), window_seconds)

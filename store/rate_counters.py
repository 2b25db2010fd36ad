"""Fixed-window rate-limit counters in Redis, kept per process while Redis is unreachable.

Flask-free: :mod:`api.ratelimit` decides which limit and which key a request counts against;
this module only counts: in Redis through :mod:`store.rate_leases` (one Lua round trip per
limit, or per lease for large limits), in memory with the ``limits`` library's fixed-window
strategy (the engine flask-limiter drives).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from store.rate_leases import RedisWindows

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

    Rounded up, so that waiting it is enough, and never 0; no window outlasts its length
    (``window_seconds``), which bounds it from above.
    """
    return max(1, min(window_seconds, math.ceil(window_reset - now)))


class RateCounters:
    """Counts hits per key against limits, in Redis with a per-process fallback.

    ``client`` is the shared Redis, or ``None`` to count in this process only (embedded
    mode). In Redis, small limits are counted exactly and large ones in leases
    (:mod:`store.rate_leases`). When Redis fails, counting moves to memory at once (the request
    that saw the failure is counted there, never answered with an error) and goes back to
    Redis when it answers a ping again.
    """

    def __init__(self, client: redis.Redis | None, *, key_prefix: str = "LIMITS") -> None:
        self._shared = RedisWindows(client, key_prefix) if client is not None else None
        self._local = FixedWindowRateLimiter(MemoryStorage())
        self._shared_down_until: float | None = None  # monotonic time of the next retry
        self._lock = threading.Lock()

    def hit(self, limits: tuple[RateLimitItem, ...], *identifiers: str) -> Refusal | None:
        """Count one hit against each limit; the first limit it goes over, or ``None``."""
        shared = self._usable_shared()
        if shared is None:
            return self._hit_local(limits, identifiers)
        try:
            for limit in limits:
                retry_after = shared.hit(limit, *identifiers)
                if retry_after is not None:
                    return Refusal(limit, retry_after)
            return None
        except redis.RedisError:
            log.warning(
                "rate-limit storage unreachable: counting in this process until it is back",
                exc_info=True,
            )
            self._shared_down_until = time.monotonic() + RECOVERY_CHECK_SECONDS
            return self._hit_local(limits, identifiers)

    def _usable_shared(self) -> RedisWindows | None:
        if self._shared is None or self._shared_down_until is None:
            return self._shared
        if time.monotonic() < self._shared_down_until or not self._lock.acquire(blocking=False):
            return None
        try:  # one thread per process asks whether Redis is back
            self._shared_down_until = time.monotonic() + RECOVERY_CHECK_SECONDS
            if self._shared.ping():
                log.info("rate-limit storage is back: counting there again")
                self._shared_down_until = None
                return self._shared
            return None
        finally:
            self._lock.release()

    def _hit_local(
        self, limits: tuple[RateLimitItem, ...], identifiers: tuple[str, ...]
    ) -> Refusal | None:
        for limit in limits:
            if not self._local.hit(limit, *identifiers):
                stats = self._local.get_window_stats(limit, *identifiers)
                seconds = retry_after_seconds(stats.reset_time, time.time(), limit.get_expiry())
                return Refusal(limit, seconds)
        return None

"""Shared fixed-window counters in Redis, taken in small leases for large limits.

A limit of a few requests per window is counted exactly: one Redis round trip per request,
as before. A large limit (:data:`LEASE_FROM` or more per window, e.g. an API client allowed
100,000 requests a minute) is counted in leases: a process takes up to 1/:data:`LEASE_PARTS`
of the limit from Redis at once and spends it locally, so a busy client costs Redis one
round trip per lease rather than per request.

What this trades: Redis never grants more than the limit in a window, so a client is never
let through more often than its limit; but a lease a process took and did not spend before
the window ended is lost, so a client spread over several processes may be refused up to
``(processes - 1) * lease`` requests early (a percent of the limit per process).

A lease lives no longer than its window: Redis answers with the window's remaining time.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import redis
from limits import RateLimitItem

LEASE_FROM = 200  # requests per window; smaller limits are counted exactly
LEASE_PARTS = 100  # a lease is at most this fraction of the limit
MAX_LEASES = 10_000  # per process; expired ones are dropped when there are more

# KEYS[1]: the window's counter. ARGV: limit, wanted, window seconds.
# Grants min(wanted, what is left) and answers {granted, milliseconds left in the window}.
_LEASE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = math.max(0, math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - used))
if granted > 0 then
    redis.call('INCRBY', KEYS[1], granted)
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then  -- a new window (or a counter that somehow lost its expiry)
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    left = tonumber(ARGV[3]) * 1000
end
return {granted, left}
"""


@dataclass(slots=True)
class _Lease:
    remaining: int
    expires: float  # monotonic


def lease_size(limit: RateLimitItem) -> int:
    """How many requests one round trip takes for this limit (1: counted exactly)."""
    return 1 if limit.amount < LEASE_FROM else limit.amount // LEASE_PARTS


class RedisWindows:
    """Fixed windows in Redis under ``key_prefix``, with a per-process book of leases."""

    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client = client
        self._script = client.register_script(_LEASE_SCRIPT)
        self._prefix = key_prefix
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False

    def hit(self, limit: RateLimitItem, *identifiers: str) -> int | None:
        """Count one request; ``None`` if allowed, else whole seconds until the window ends.

        Raises :class:`redis.RedisError` when Redis fails.
        """
        key = f"{self._prefix}:{limit.key_for(*identifiers)}"
        if self._spend(key):
            return None
        window = limit.get_expiry()
        granted, window_ms = self._script(
            keys=[key], args=[limit.amount, lease_size(limit), window]
        )
        if granted == 0:
            # PTTL is exact to the millisecond: rounding it up is enough to wait.
            return max(1, min(window, math.ceil(int(window_ms) / 1000)))
        if granted > 1:
            self._keep(key, int(granted) - 1, time.monotonic() + int(window_ms) / 1000)
        return None

    def _spend(self, key: str) -> bool:
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.remaining == 0 or lease.expires <= time.monotonic():
                return False
            lease.remaining -= 1
            return True

    def _keep(self, key: str, remaining: int, expires: float) -> None:
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.expires > time.monotonic():
                # Another thread took a lease in the same window meanwhile: keep both.
                lease.remaining += remaining
                return
            if len(self._leases) >= MAX_LEASES:
                now = time.monotonic()
                self._leases = {k: v for k, v in self._leases.items() if v.expires > now}
            self._leases[key] = _Lease(remaining, expires)

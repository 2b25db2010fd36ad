"""Per-host request budgets: when may the next request to a host go out?

A budget hands out turns: :meth:`HostBudget.reserve` books the next turn for a host and says
how long to wait for it; :meth:`HostBudget.defer` pushes the host's next turn later (a
Retry-After, an anti-bot page, a failing robots.txt). :class:`LocalBudget` serves one
process; :class:`RedisBudget` is shared by every worker on one Redis, so N workers put the
load of one on the site (scrapy-redis alone shares the queue but not the delays).

**When Redis cannot be reached, the shared budget pauses: no turn is booked for any host**
until Redis answers again. It does not fall back to pacing each process on its own, which
would let N workers put N times the load on the site, the one thing the shared budget exists
to prevent. Nor does it fall back to "the interval times the number of live workers": that
keeps the average rate of N uncoordinated processes but not the gap between two requests
(their turns drift onto each other), and the heartbeats it would count show neither the
one-off crawls (``latest``, ``dj``) that share the budget nor workers started since Redis
went away. A pause costs little: the workers' queue lives in the same Redis, so they can take
no new work anyway, and their leases are renewed in the database meanwhile. While paused, a
process asks Redis again at most every ``probe_interval`` seconds, and books its first turn no
sooner than a horizon plus an interval after its last failed call, so a turn another process
booked just before the outage (perhaps forgotten by a Redis that restarted empty) has gone
out first. Deferrals and Crawl-delays learnt meanwhile are sent to Redis before that first
turn. The pause is logged once when it starts and once when it ends; a crawl meant to run
alone without Redis turns sharing off (``TRACKLIST_SHARED_BUDGET_ENABLED``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from crawler.middlewares import defaults

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """The answer to a reservation: wait ``wait`` seconds; ``booked`` False means ask again."""

    wait: float
    booked: bool


class HostBudget(Protocol):
    """When requests to a host may go out; shared or not depending on the implementation."""

    async def reserve(self, host: str, interval: float, horizon: float) -> Turn:
        """Book the host's next turn if it starts within ``horizon`` s; hold it ``interval`` s."""
        ...

    async def defer(self, host: str, seconds: float) -> float:
        """No turn for ``host`` for ``seconds`` from now; return the wait now in force."""
        ...

    async def set_min_interval(self, host: str, seconds: float) -> None:
        """Every turn of ``host`` lasts at least ``seconds`` (its robots.txt Crawl-delay)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class LocalBudget:
    """A budget for one process (monotonic clock)."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._min_interval: dict[str, float] = {}

    async def reserve(self, host: str, interval: float, horizon: float) -> Turn:
        """See :meth:`HostBudget.reserve`."""
        now = time.monotonic()
        min_interval = self._min_interval.get(host, 0.0)
        start = max(now, self._next.get(host, 0.0))
        if host in self._last:
            start = max(start, self._last[host] + min_interval)
        if start - now > horizon:
            return Turn(start - now, booked=False)
        self._next[host] = start + max(interval, min_interval)
        self._last[host] = start
        return Turn(start - now, booked=True)

    async def defer(self, host: str, seconds: float) -> float:
        """See :meth:`HostBudget.defer`."""
        now = time.monotonic()
        self._next[host] = max(self._next.get(host, 0.0), now + seconds)
        return self._next[host] - now

    async def set_min_interval(self, host: str, seconds: float) -> None:
        """See :meth:`HostBudget.set_min_interval`."""
        self._min_interval[host] = seconds

    async def close(self) -> None:
        """Nothing to release."""


# Per host, a hash {next: when the next turn may start, last: when the last one started} and
# the host's shared minimum interval (its Crawl-delay). A Crawl-delay learnt after the last
# turn was booked still spaces the next turn from it. Times come from the Redis server
# (TIME), so workers on machines with skewed clocks agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'next', 'last')
local nxt = tonumber(h[1] or '0')
local last = tonumber(h[2] or '0')
local min_interval = tonumber(redis.call('GET', KEYS[2]) or '0')
local interval = math.max(tonumber(ARGV[1]), min_interval)
local start = math.max(now, nxt)
if last > 0 then
  start = math.max(start, last + min_interval)
end
if start - now > tonumber(ARGV[2]) then
  return {0, tostring(start - now)}
end
redis.call('HSET', KEYS[1], 'next', tostring(start + interval), 'last', tostring(start))
redis.call('PEXPIRE', KEYS[1], math.ceil((start + interval - now) * 1000) + 60000)
return {1, tostring(start - now)}
"""
_DEFER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
nxt = math.max(nxt, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'next', tostring(nxt))
redis.call('PEXPIRE', KEYS[1], math.ceil((nxt - now) * 1000) + 60000)
return tostring(nxt - now)
"""


class RedisBudget:
    """A budget shared through Redis: one key per host holds the time its next turn starts.

    Each call is one Lua script, so reserving is atomic across workers. When Redis fails, the
    budget pauses every host of this process until Redis answers again (see the module
    docstring); ``errors`` counts the failed calls.
    """

    def __init__(
        self,
        url: str,
        prefix: str,
        interval_ttl: int,
        *,
        probe_interval: float = defaults.BUDGET_PROBE_INTERVAL,
    ) -> None:
        # A blocking pool queues callers when all connections are busy instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=defaults.BUDGET_MAX_CONNECTIONS, timeout=5, socket_timeout=5
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._prefix = prefix
        self._interval_ttl = interval_ttl
        self._probe_interval = probe_interval
        self._reserve = self._client.register_script(_RESERVE)
        self._defer = self._client.register_script(_DEFER)
        self.errors = 0
        self._unreachable_since: float | None = None  # monotonic; None while Redis answers
        self._last_failure = 0.0
        # What Redis missed while unreachable: host -> deferred until (monotonic) / min interval.
        self._unsent_deferrals: dict[str, float] = {}
        self._unsent_intervals: dict[str, float] = {}

    def _keys(self, host: str) -> list[str]:
        return [f"{self._prefix}{host}:next", f"{self._prefix}{host}:interval"]

    def _failed(self, exc: RedisError) -> None:
        self.errors += 1
        self._last_failure = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = self._last_failure
            logger.warning(
                "shared host budget unreachable (%s): no request to any host goes out until "
                "Redis answers again",
                exc,
            )

    def _answered(self) -> None:
        if self._unreachable_since is not None:
            logger.warning(
                "shared host budget reachable again after %.1f s: requests resume",
                time.monotonic() - self._unreachable_since,
            )
            self._unreachable_since = None

    def _pause(self, interval: float, horizon: float) -> float:
        """How long this process must still wait before its first turn after an outage."""
        return max(self._probe_interval, horizon + interval)

    async def reserve(self, host: str, interval: float, horizon: float) -> Turn:
        """See :meth:`HostBudget.reserve`; not booked while Redis is unreachable."""
        if self._unreachable_since is not None:
            left = self._last_failure + self._pause(interval, horizon) - time.monotonic()
            if left > 0:
                return Turn(left, booked=False)
        try:
            if self._unreachable_since is not None:
                await self._send_unsent()
            booked, wait = await self._reserve(keys=self._keys(host), args=[interval, horizon])
        except RedisError as exc:
            self._failed(exc)
            return Turn(self._pause(interval, horizon), booked=False)
        self._answered()
        return Turn(float(wait), booked=bool(booked))

    async def _send_unsent(self) -> None:
        """Give Redis what it missed (each entry forgotten only once sent)."""
        for host, seconds in list(self._unsent_intervals.items()):
            await self._client.set(self._keys(host)[1], repr(seconds), ex=self._interval_ttl)
            del self._unsent_intervals[host]
        for host, until in list(self._unsent_deferrals.items()):
            left = until - time.monotonic()
            if left > 0:
                await self._defer(keys=self._keys(host)[:1], args=[left])
            del self._unsent_deferrals[host]

    async def defer(self, host: str, seconds: float) -> float:
        """See :meth:`HostBudget.defer`; kept here and sent later while Redis is unreachable."""
        try:
            return float(await self._defer(keys=self._keys(host)[:1], args=[seconds]))
        except RedisError as exc:
            self._failed(exc)
        until = max(self._unsent_deferrals.get(host, 0.0), time.monotonic() + seconds)
        self._unsent_deferrals[host] = until
        return until - time.monotonic()

    async def set_min_interval(self, host: str, seconds: float) -> None:
        """See :meth:`HostBudget.set_min_interval`; sent later while Redis is unreachable."""
        try:
            await self._client.set(self._keys(host)[1], repr(seconds), ex=self._interval_ttl)
        except RedisError as exc:
            self._failed(exc)
            self._unsent_intervals[host] = seconds

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose(close_connection_pool=True)

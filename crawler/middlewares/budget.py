"""Per-host request budgets: when may the next request to a host go out?

A budget hands out turns: :meth:`HostBudget.reserve` books the next turn for a host and says
how long to wait for it; :meth:`HostBudget.defer` pushes the host's next turn later (a
Retry-After, an anti-bot page, a failing robots.txt). :class:`LocalBudget` serves one
process; :class:`RedisBudget` is shared by every worker on one Redis, so N workers put the
load of one on the site (scrapy-redis alone shares the queue but not the delays).
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

    Each call is one Lua script, so reserving is atomic across workers. When Redis fails the
    call falls back to a :class:`LocalBudget` (this process stays polite; the failure is
    logged and counted) rather than stopping the crawl.
    """

    def __init__(self, url: str, prefix: str, interval_ttl: int) -> None:
        # A blocking pool queues callers when all connections are busy instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=defaults.BUDGET_MAX_CONNECTIONS, timeout=5, socket_timeout=5
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._prefix = prefix
        self._interval_ttl = interval_ttl
        self._reserve = self._client.register_script(_RESERVE)
        self._defer = self._client.register_script(_DEFER)
        self._fallback = LocalBudget()
        self.errors = 0

    def _keys(self, host: str) -> list[str]:
        return [f"{self._prefix}{host}:next", f"{self._prefix}{host}:interval"]

    def _failed(self, exc: RedisError) -> None:
        self.errors += 1
        if self.errors == 1 or self.errors % 100 == 0:
            logger.warning("shared host budget unavailable, pacing this process only: %s", exc)

    async def reserve(self, host: str, interval: float, horizon: float) -> Turn:
        """See :meth:`HostBudget.reserve`."""
        try:
            booked, wait = await self._reserve(keys=self._keys(host), args=[interval, horizon])
        except RedisError as exc:
            self._failed(exc)
            return await self._fallback.reserve(host, interval, horizon)
        return Turn(float(wait), booked=bool(booked))

    async def defer(self, host: str, seconds: float) -> float:
        """See :meth:`HostBudget.defer`."""
        local = await self._fallback.defer(host, seconds)
        try:
            return float(await self._defer(keys=self._keys(host)[:1], args=[seconds]))
        except RedisError as exc:
            self._failed(exc)
            return local

    async def set_min_interval(self, host: str, seconds: float) -> None:
        """See :meth:`HostBudget.set_min_interval`."""
        await self._fallback.set_min_interval(host, seconds)
        try:
            await self._client.set(self._keys(host)[1], repr(seconds), ex=self._interval_ttl)
        except RedisError as exc:
            self._failed(exc)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose(close_connection_pool=True)

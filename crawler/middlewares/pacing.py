"""One request at a time per host, spaced by the larger of DOWNLOAD_DELAY and Crawl-delay.

Scrapy's own delay lives in each process's downloader slot, knows nothing of robots.txt's
Crawl-delay, Retry-After or anti-bot pauses, and is not shared between workers. This
middleware sits closest to the network: a request takes its host's turn (one in flight per
host and process), waits until the host's budget grants it a slot, and gives the turn back
when its response or error comes back. Because the turn is only released after the response
and the next wait starts from the moment the previous request went out, the downloader slot
never holds a released request back, so the spacing measured at the server is the one booked.

A host with no delay at all (DOWNLOAD_DELAY 0, no Crawl-delay: benchmarks against the local
site) gets CONCURRENT_REQUESTS_PER_DOMAIN turns at once; pauses still apply to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.asyncio import is_asyncio_available

from crawler.middlewares import defaults
from crawler.middlewares.policy import HostPolicy, host_key, host_policy

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass
class _HostTurn:
    """Who holds a host's turns (since when downloading), and who waits for one."""

    holders: dict[Request, float | None] = field(default_factory=dict)
    last_release: float = float("-inf")
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class HostPacingMiddleware:
    """Pace requests per host through the crawler's :class:`HostPolicy` budget.

    Settings: ``TRACKLIST_HOST_PACING_ENABLED`` (default true), ``DOWNLOAD_DELAY`` (floor),
    ``DOWNLOAD_TIMEOUT`` (with a grace period: when a turn is taken over from a lost request),
    ``CONCURRENT_REQUESTS_PER_DOMAIN`` (turns of a host without any delay).
    """

    def __init__(self, crawler: Crawler, policy: HostPolicy) -> None:
        self._crawler = crawler
        self._policy = policy
        self._stats = crawler.stats
        self._lease = crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + defaults.LEASE_GRACE
        self._concurrency = max(crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), 1)
        self._turns: dict[str, _HostTurn] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings; ``NotConfigured`` when pacing is off."""
        if not crawler.settings.getbool("TRACKLIST_HOST_PACING_ENABLED", True):
            raise NotConfigured("TRACKLIST_HOST_PACING_ENABLED is off")
        if not is_asyncio_available():
            # Refuse to crawl unpaced rather than silently dropping politeness.
            raise RuntimeError("HostPacingMiddleware needs Scrapy's asyncio reactor")
        return cls(crawler, host_policy(crawler))

    async def process_request(self, request: Request) -> None:
        """Wait for the host's turn and slot; the request then goes straight out."""
        if request.url.startswith(("data:", "file:")):
            return
        host = host_key(request)
        turn = self._turns.setdefault(host, _HostTurn())
        await self._acquire(turn, host, request)
        turn.holders[request] = None
        try:
            await self._wait_for_slot(turn, host, request)
        except BaseException:
            self._release(request)
            raise
        turn.holders[request] = turn.last_release = time.monotonic()

    def process_response(self, request: Request, response: Response) -> Response:
        """Give the host's turn to the next request."""
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Give the host's turn to the next request (the error goes on to other middlewares)."""
        self._release(request)

    async def _acquire(self, turn: _HostTurn, host: str, request: Request) -> None:
        # Futures woken by _release, not asyncio.wait_for(lock.acquire()): on Python 3.11 a
        # timeout racing a release can leave such a lock held by nobody.
        while len(turn.holders) >= self._capacity(host, request):
            now = time.monotonic()
            lost = [r for r, since in turn.holders.items() if since and now - since > self._lease]
            if lost:
                # The holder never came back (another middleware dropped it): take over.
                logger.warning("request %s lost its turn on %s", lost[0], host)
                self._stats.inc_value("politeness/turn_taken_over")
                del turn.holders[lost[0]]
                continue
            woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            turn.waiters.append(woken)
            try:
                await self._policy.wait_for({woken}, self._lease)
            except BaseException:
                if woken.done():
                    # Woken but cancelled before taking the turn: pass the wake-up on.
                    self._wake_next(turn)
                raise
            finally:
                if not woken.done():
                    woken.cancel()
                    turn.waiters.remove(woken)

    def _capacity(self, host: str, request: Request) -> int:
        # Spacing needs one request at a time; without any delay, Scrapy's concurrency applies.
        return 1 if self._interval(host, request) > 0 else self._concurrency

    async def _wait_for_slot(self, turn: _HostTurn, host: str, request: Request) -> None:
        started = time.monotonic()
        while True:
            interval = self._interval(host, request)
            local_wait = turn.last_release + interval - time.monotonic()
            if local_wait > 0:
                await self._policy.sleep(local_wait)
                continue
            horizon = max(interval, defaults.BUDGET_HORIZON_MIN)
            granted = await self._policy.budget.reserve(host, interval, horizon)
            if granted.booked:
                if granted.wait > 0:
                    await self._policy.sleep(granted.wait)
                break
            # Deferred beyond the horizon: look again later (the pause may change meanwhile).
            await self._policy.sleep(min(granted.wait, horizon))
        self._stats.inc_value("politeness/wait_ms", round((time.monotonic() - started) * 1000))

    def _interval(self, host: str, request: Request) -> float:
        """The host's spacing: DOWNLOAD_DELAY, Crawl-delay, or AutoThrottle's slot delay."""
        interval = max(self._policy.min_interval(host), self._slot_delay(request))
        return interval + defaults.PACING_MARGIN if interval > 0 else 0.0

    def _slot_delay(self, request: Request) -> float:
        """The downloader slot's delay at its (jittered) longest: a request sent sooner would
        be held back by the slot, and the spacing would no longer be the one booked."""
        try:
            downloader = self._crawler.engine.downloader
        except RuntimeError:  # no engine: not inside a crawl, so no slot either
            return 0.0
        slot = downloader.slots.get(downloader.get_slot_key(request))
        return slot.delay * (1 + slot.jitter) if slot is not None else 0.0

    def _release(self, request: Request) -> None:
        turn = self._turns.get(host_key(request))
        if turn is not None and request in turn.holders:
            del turn.holders[request]
            self._wake_next(turn)

    @staticmethod
    def _wake_next(turn: _HostTurn) -> None:
        if turn.waiters:
            turn.waiters.popleft().set_result(None)

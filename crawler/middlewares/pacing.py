"""One request at a time per host, spaced by the larger of DOWNLOAD_DELAY and Crawl-delay.

Scrapy's own delay lives in each process's downloader slot, knows nothing of robots.txt's
Crawl-delay, Retry-After or anti-bot pauses, and is not shared between workers. This
middleware sits closest to the network: a request takes its host's turn (one in flight per
host and process), waits until the host's budget grants it a slot, and gives the turn back
when its response or error comes back. Because the turn is only released after the response
and the next wait starts from the moment the previous request went out, the downloader slot
never holds a released request back, so the spacing measured at the server is the one booked.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: Request | None = None
    downloading_since: float | None = None
    last_release: float = float("-inf")


class HostPacingMiddleware:
    """Pace requests per host through the crawler's :class:`HostPolicy` budget.

    Settings: ``TRACKLIST_HOST_PACING_ENABLED`` (default true), ``DOWNLOAD_DELAY`` (floor),
    ``DOWNLOAD_TIMEOUT`` (with a grace period: when a turn is taken over from a lost request).
    """

    def __init__(self, crawler: Crawler, policy: HostPolicy) -> None:
        self._crawler = crawler
        self._policy = policy
        self._stats = crawler.stats
        self._lease = crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + defaults.LEASE_GRACE
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
        await self._acquire(turn, host)
        turn.holder, turn.downloading_since = request, None
        try:
            await self._wait_for_slot(turn, host, request)
        except BaseException:
            self._release(request)
            raise
        turn.downloading_since = turn.last_release = time.monotonic()

    def process_response(self, request: Request, response: Response) -> Response:
        """Give the host's turn to the next request."""
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Give the host's turn to the next request (the error goes on to other middlewares)."""
        self._release(request)

    async def _acquire(self, turn: _HostTurn, host: str) -> None:
        while True:
            try:
                await asyncio.wait_for(turn.lock.acquire(), timeout=self._lease)
                return
            except TimeoutError:
                since = turn.downloading_since
                if since is not None and time.monotonic() - since > self._lease:
                    # The holder never came back (another middleware dropped it): take over.
                    logger.warning("request %s lost its turn on %s", turn.holder, host)
                    self._stats.inc_value("politeness/turn_taken_over")
                    return

    async def _wait_for_slot(self, turn: _HostTurn, host: str, request: Request) -> None:
        started = time.monotonic()
        while True:
            interval = self._interval(host, request)
            local_wait = turn.last_release + interval - time.monotonic()
            if local_wait > 0:
                await asyncio.sleep(local_wait)
                continue
            horizon = max(interval, defaults.BUDGET_HORIZON_MIN)
            granted = await self._policy.budget.reserve(host, interval, horizon)
            if granted.booked:
                if granted.wait > 0:
                    await asyncio.sleep(granted.wait)
                break
            # Deferred beyond the horizon: look again later (the pause may change meanwhile).
            await asyncio.sleep(min(granted.wait, horizon))
        self._stats.inc_value("politeness/wait_ms", round((time.monotonic() - started) * 1000))

    def _interval(self, host: str, request: Request) -> float:
        """The host's spacing: DOWNLOAD_DELAY, Crawl-delay, or AutoThrottle's slot delay."""
        interval = self._policy.min_interval(host)
        engine = self._crawler.engine
        if engine is not None:
            downloader = engine.downloader
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                # The slot would hold back a request sent sooner than its (jittered) delay.
                interval = max(interval, slot.delay * (1 + slot.jitter))
        return interval + defaults.PACING_MARGIN if interval > 0 else 0.0

    def _release(self, request: Request) -> None:
        turn = self._turns.get(host_key(request))
        if turn is not None and turn.holder is request:
            turn.holder = turn.downloading_since = None
            turn.lock.release()

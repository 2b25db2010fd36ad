"""The politeness state the middlewares of one crawler share: crawl delays, the budget, and
whether the crawler is stopping (a request waiting for a paused host must not hold a stop up).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import task

from crawler.middlewares import defaults
from crawler.middlewares.budget import HostBudget, LocalBudget, RedisBudget

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
_POLICIES: WeakKeyDictionary[Crawler, HostPolicy] = WeakKeyDictionary()


def host_key(request: Request) -> str:
    """The unit of politeness: a request's ``host[:port]`` (robots.txt is per origin too)."""
    return urlparse_cached(request).netloc


class CrawlerStopping(IgnoreRequest):
    """The crawler is stopping: a request that was waiting (for a turn, a paused host, a retry
    backoff) is not sent. It did not fail: a worker hands it back to the queue."""

    def __init__(self) -> None:
        super().__init__("the crawler is stopping: not sent")


class HostPolicy:
    """Per-host Crawl-delays and the (possibly shared) budget of turns, for one crawler.

    Settings: ``TRACKLIST_SHARED_BUDGET_ENABLED`` (Redis budget when true and
    ``TRACKLIST_REDIS_URL`` is set), ``TRACKLIST_BUDGET_KEY_PREFIX``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self._stats = crawler.stats
        redis_url = settings.get("TRACKLIST_REDIS_URL")
        self.budget: HostBudget
        if settings.getbool("TRACKLIST_SHARED_BUDGET_ENABLED") and redis_url:
            prefix = settings.get("TRACKLIST_BUDGET_KEY_PREFIX", defaults.BUDGET_KEY_PREFIX)
            self.budget = RedisBudget(redis_url, prefix, defaults.BUDGET_INTERVAL_TTL)
            logger.info("per-host request budget shared through Redis (keys %s*)", prefix)
        else:
            self.budget = LocalBudget()
            logger.info("per-host request budget local to this process")
        self.download_delay = settings.getfloat("DOWNLOAD_DELAY")
        self._crawl_delays: dict[str, float] = {}
        self._crawler = crawler
        # Scrapy's graceful stop (first SIGTERM/SIGINT) sends no signal before it waits for
        # every request in progress, those sleeping in our middlewares included: so look.
        self._stop_watch = task.LoopingCall(self._look_for_stop)
        self._stopping: asyncio.Future[None] | None = None
        crawler.signals.connect(self._open, signal=signals.spider_opened)
        crawler.signals.connect(self._close, signal=signals.spider_closed)

    def crawl_delay(self, host: str) -> float:
        """The host's robots.txt Crawl-delay (0 when unknown or absent)."""
        return self._crawl_delays.get(host, 0.0)

    def min_interval(self, host: str) -> float:
        """The least time between two requests to ``host``: DOWNLOAD_DELAY or Crawl-delay."""
        return max(self.download_delay, self.crawl_delay(host))

    async def set_crawl_delay(self, host: str, seconds: float) -> None:
        """Remember the host's Crawl-delay, here and for every worker sharing the budget."""
        self._crawl_delays[host] = seconds
        self._stats.set_value(f"politeness/crawl_delay/{host}", seconds)
        await self.budget.set_min_interval(host, seconds + defaults.PACING_MARGIN)

    async def defer(self, host: str, seconds: float, reason: str) -> float:
        """Give ``host`` no turn for ``seconds``; return the wait now in force."""
        wait = await self.budget.defer(host, seconds)
        self._stats.inc_value(f"politeness/deferred/{reason}")
        logger.info("pausing %s for %.1f s (%s)", host, wait, reason)
        return wait

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`CrawlerStopping` once the crawler is stopping."""
        await self.wait_for(set(), seconds)

    async def wait_for(self, futures: set[asyncio.Future[None]], timeout: float) -> None:
        """Wait for one of ``futures`` or ``timeout`` (``asyncio.wait``); raise
        :class:`CrawlerStopping` when the crawler is stopping, before or while waiting."""
        stopping = self._stop_future()
        if not stopping.done() and timeout > 0:
            await asyncio.wait(
                {*futures, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        self.check_stopping()

    def check_stopping(self) -> None:
        """Raise :class:`CrawlerStopping` when the crawler is stopping."""
        if self._stopping is not None and self._stopping.done():
            raise CrawlerStopping

    def _stop_future(self) -> asyncio.Future[None]:
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_future()
        return self._stopping

    def _look_for_stop(self) -> None:
        if not self._crawler.crawling:
            self._stop_watch.stop()
            stopping = self._stop_future()
            if not stopping.done():
                logger.info("crawler stopping: requests waiting for a turn are not sent")
                stopping.set_result(None)

    def _open(self) -> None:
        self._stop_watch.start(defaults.STOP_CHECK_INTERVAL, now=False)

    async def _close(self) -> None:
        if self._stop_watch.running:
            self._stop_watch.stop()
        await self.budget.close()


def host_policy(crawler: Crawler) -> HostPolicy:
    """The one :class:`HostPolicy` of ``crawler`` (created on first use)."""
    policy = _POLICIES.get(crawler)
    if policy is None:
        policy = _POLICIES[crawler] = HostPolicy(crawler)
    return policy

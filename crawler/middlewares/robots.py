"""robots.txt, politely: its Crawl-delay is applied, and a failing robots.txt defers the host.

Scrapy's RobotsTxtMiddleware parses Crawl-delay but never applies it, and when robots.txt
answers 5xx it parses the error page, which usually means "allow everything". Here a 5xx or
429, an unreachable or an anti-bot robots.txt means the rules are unknown: the host gets no
request (robots.txt included) for a doubling deferral, then robots.txt is fetched again;
after ``TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS`` consecutive failures, waiting requests are
dropped with :class:`RobotsTxtUnavailable` instead of waiting on. A Retry-After on the
failed robots.txt lengthens the deferral (never beyond ``TRACKLIST_ROBOTS_5XX_DEFER_MAX``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

from crawler.middlewares import defaults
from crawler.middlewares.policy import CrawlerStopping, HostPolicy, host_policy
from crawler.middlewares.retry import parse_retry_after

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsTxtUnavailable(IgnoreRequest):
    """The host's robots.txt kept failing: the request is not sent without knowing the rules."""

    def __init__(self, host: str, failures: int) -> None:
        super().__init__(f"robots.txt of {host} failed {failures} times in a row")
        self.host = host
        self.failures = failures


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware plus Crawl-delay and 5xx deferral.

    Settings: ``ROBOTSTXT_OBEY`` (off: ``NotConfigured``), ``TRACKLIST_ROBOTS_5XX_DEFER``,
    ``TRACKLIST_ROBOTS_5XX_DEFER_MAX``, ``TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS``.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self._policy: HostPolicy = host_policy(crawler)
        self._defer_base = settings.getfloat(
            "TRACKLIST_ROBOTS_5XX_DEFER", defaults.ROBOTS_5XX_DEFER
        )
        self._defer_max = settings.getfloat(
            "TRACKLIST_ROBOTS_5XX_DEFER_MAX", defaults.ROBOTS_5XX_DEFER_MAX
        )
        self._max_attempts = settings.getint(
            "TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS", defaults.ROBOTS_5XX_MAX_ATTEMPTS
        )
        self._rules: dict[str, RobotParser | asyncio.Event] = {}
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings."""
        return cls(crawler)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The host's parser, fetching robots.txt when unknown or when its deferral is over."""
        netloc = urlparse_cached(request).netloc
        while True:
            self._policy.check_stopping()
            entry = self._rules.get(netloc)
            if isinstance(entry, asyncio.Event):
                # Another request is fetching robots.txt: wait for it, then look again.
                await entry.wait()
                continue
            if entry is not None:
                return entry
            retry_at = self._retry_at.get(netloc)
            if retry_at is None or time.monotonic() >= retry_at:
                await self._fetch(request, netloc)
                continue
            if self._failures[netloc] >= self._max_attempts:
                self._stats.inc_value("robotstxt/deferred_dropped")
                raise RobotsTxtUnavailable(netloc, self._failures[netloc])
            # The budget keeps the host paused for everyone; this only avoids spinning.
            await self._policy.sleep(retry_at - time.monotonic())

    async def _fetch(self, request: Request, netloc: str) -> None:
        done = self._rules[netloc] = asyncio.Event()
        robots_url = f"{urlparse_cached(request).scheme}://{netloc}/robots.txt"
        robots_request = Request(
            robots_url,
            priority=self.DOWNLOAD_PRIORITY,
            # Failures are handled here (deferral), not by quick retries.
            meta={"dont_obey_robotstxt": True, "dont_retry": True},
            callback=NO_CALLBACK,
        )
        self._stats.inc_value("robotstxt/request_count")
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(robots_request)
        except CrawlerStopping:
            raise  # not a failure of robots.txt: the crawler stops before fetching it
        except Exception as exc:
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc).__name__}")
            await self._defer(netloc, f"{type(exc).__name__}: {exc}")
        else:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            if response.status >= 500 or response.status == 429:
                after = parse_retry_after(response.headers.get(b"Retry-After"))
                await self._defer(netloc, f"HTTP {response.status}", after)
            else:
                await self._use(response.body, netloc, request)
        finally:
            if self._rules.get(netloc) is done:
                del self._rules[netloc]
            done.set()

    async def _use(self, body: bytes, netloc: str, request: Request) -> None:
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        self._rules[netloc] = parser
        self._failures.pop(netloc, None)
        self._retry_at.pop(netloc, None)
        agent = self._robotstxt_useragent or self._default_useragent
        delay = parser.crawl_delay(agent)
        if delay:
            await self._policy.set_crawl_delay(netloc, float(delay))
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )

    async def _defer(self, netloc: str, reason: str, retry_after: float | None = None) -> None:
        failures = self._failures[netloc] = self._failures.get(netloc, 0) + 1
        # The doubling deferral, or the server's Retry-After when it asks for longer.
        delay = min(max(self._defer_base * 2 ** (failures - 1), retry_after or 0), self._defer_max)
        self._retry_at[netloc] = time.monotonic() + delay
        self._stats.inc_value("robotstxt/deferred")
        logger.warning(
            "robots.txt of %s unavailable (%s, %d in a row): no request there for %.1f s",
            netloc,
            reason,
            failures,
            delay,
        )
        await self._policy.defer(netloc, delay, "robots_txt")

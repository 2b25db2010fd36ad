"""Retries that wait: exponential backoff, and the server's Retry-After on 429/503.

Scrapy's RetryMiddleware retries a 429 at once and ignores Retry-After. Here every retry
waits ``TRACKLIST_RETRY_DELAY_BASE * 2**(n-1)`` seconds (capped by
``TRACKLIST_RETRY_DELAY_MAX``) before its n-th attempt, and a 429/503 pauses the whole host,
for every worker sharing the budget, for its Retry-After (seconds or HTTP-date, capped by
``TRACKLIST_RETRY_AFTER_MAX``) or, without one, for the backoff.
"""

from __future__ import annotations

import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.response import response_status_message

from crawler.middlewares import defaults
from crawler.middlewares.policy import HostPolicy, host_key, host_policy

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


def parse_retry_after(value: str | bytes | None, now: float | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` value (delay-seconds or HTTP-date); None if bad.

    A date in the past means 0. ``now`` (POSIX seconds) defaults to the current time.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same settings and meta keys), waiting before each retry.

    Settings: ``RETRY_ENABLED``, ``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``,
    ``TRACKLIST_RETRY_DELAY_BASE``, ``TRACKLIST_RETRY_DELAY_MAX``, ``TRACKLIST_RETRY_AFTER_MAX``.
    """

    _policy: HostPolicy

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self._base = settings.getfloat("TRACKLIST_RETRY_DELAY_BASE", defaults.RETRY_DELAY_BASE)
        self._max = settings.getfloat("TRACKLIST_RETRY_DELAY_MAX", defaults.RETRY_DELAY_MAX)
        self._after_max = settings.getfloat("TRACKLIST_RETRY_AFTER_MAX", defaults.RETRY_AFTER_MAX)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings; ``NotConfigured`` when RETRY_ENABLED is off."""
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        middleware._policy = host_policy(crawler)
        return middleware

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based): base doubling, capped."""
        return float(min(self._base * 2 ** max(attempt - 1, 0), self._max))

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """Retry a retryable status after the backoff or the host's Retry-After."""
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self.backoff(request.meta.get("retry_times", 0) + 1)
        if response.status in defaults.RETRY_AFTER_STATUSES:
            # The server asks this client to slow down: pause the host, retried or not.
            after = parse_retry_after(response.headers.get(b"Retry-After"))
            if after is not None:
                self.crawler.stats.inc_value("retry/retry_after")
                delay = max(delay, min(after, self._after_max))
            await self._policy.defer(host_key(request), delay, f"http_{response.status}")
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(delay)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        """Retry a retryable download error after the backoff."""
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await self._wait(self.backoff(retry.meta["retry_times"]))
        return retry

    async def _wait(self, seconds: float) -> None:
        self.crawler.stats.inc_value("retry/backoff_ms", round(seconds * 1000))
        await self._policy.sleep(seconds)

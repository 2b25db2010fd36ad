"""What every spider shares: the site's address, tracklist pages into items, failures counted.

Spiders read settings, never the environment: ``TRACKLIST_BASE_URL`` says where the site is,
so tests and the offline demo point the same spiders at a local replay of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import TracklistItem, TracklistRefused
from crawler.middlewares.antibot import BlockedByAntiBot, blocked_page_parsed
from crawler.middlewares.policy import CrawlerStopping
from crawler.pages import BlockedPage, ParseError, TracklistPage, parse_page
from crawler.spiders.errors import error_text
from crawler.spiders.parse_pool import parse_pool
from domain.site import SITE_HOSTS

# The site's answers for a tracklist it deleted.
GONE_STATUSES = frozenset({404, 410})


class OffSiteURL(ValueError):
    """A URL that is not on the site this service crawls."""


class SiteSpider(scrapy.Spider):
    """Base class: URL mapping, tracklist parsing and failure accounting."""

    _parse_pool: ProcessPoolExecutor | None = None

    def _parsers(self) -> Executor | None:
        """The process pool for parsing (TRACKLIST_PARSE_PROCESSES > 0), made on first use."""
        processes = self.settings.getint("TRACKLIST_PARSE_PROCESSES")
        if processes <= 0:
            return None  # the loop's default thread pool
        if self._parse_pool is None:
            self._parse_pool = parse_pool(processes)
            self.crawler.signals.connect(self._stop_parsers, signal=signals.spider_closed)
        return self._parse_pool

    def _stop_parsers(self, spider: scrapy.Spider) -> None:
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=True, cancel_futures=True)
            self._parse_pool = None

    @property
    def base_url(self) -> str:
        return str(self.settings.get("TRACKLIST_BASE_URL")).rstrip("/")

    def site_url(self, url_or_path: str) -> str:
        """Map a site URL or path onto the configured base URL; refuse other hosts."""
        base = urlsplit(self.base_url)
        parts = urlsplit(urljoin(self.base_url + "/", url_or_path.strip()))
        if parts.scheme not in ("http", "https"):
            raise OffSiteURL(f"not an http(s) URL: {url_or_path!r}")
        # URLs on the public site's hosts are fetched from TRACKLIST_BASE_URL instead.
        if parts.netloc != base.netloc and (parts.hostname or "") not in SITE_HOSTS:
            raise OffSiteURL(f"not on the site: {url_or_path!r}")
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def tracklist_request(self, url: str, **meta: Any) -> Request:
        """A request for a tracklist page, parsed by :meth:`parse_tracklist`."""
        return Request(
            self.site_url(url),
            callback=self.parse_tracklist,
            errback=self.on_error,
            meta=meta,
            dont_filter=bool(meta.get("dont_filter", False)),
        )

    async def parse_tracklist(
        self, response: Response
    ) -> AsyncIterator[TracklistItem | TracklistRefused]:
        """Turn a tracklist page into an item; anything else is counted and reported."""
        started = time.perf_counter()
        try:
            # Off the reactor: in worker processes when configured (parsing is most of the
            # crawler's CPU, and a process uses another core), else in a thread (lxml's
            # parser releases the GIL while it works).
            loop = asyncio.get_running_loop()
            page = await loop.run_in_executor(
                self._parsers(), parse_page, response.body, response.url
            )
        except BlockedPage as exc:
            # Only parsing tells a decoy: the anti-bot middleware counts it and pauses the
            # host as for a challenge. Nothing of the page is stored.
            await self.crawler.signals.send_catch_log_async(
                signal=blocked_page_parsed,
                request=response.request,
                response=response,
                page_type=exc.page_type,
            )
            self.request_failed(response.request, "blocked", str(exc))
            yield TracklistRefused(response.url, "blocked", str(exc))
            return
        except ParseError as exc:
            self.count(f"parse/errors/{exc.page_type}")
            self.logger.error("cannot parse %s: %s", response.url, exc)
            self.request_failed(response.request, "failed", str(exc))
            return
        if not isinstance(page, TracklistPage):
            self.count("parse/errors/not_a_tracklist")
            self.request_failed(
                response.request, "failed", f"expected a tracklist, got {page.page_type}"
            )
            return
        latency = float(response.meta.get("download_latency", 0.0))
        # After redirects the page is not where it was asked for: the store keeps the address
        # asked for as an alias of the tracklist the page declares.
        redirects = response.meta.get("redirect_urls") or [response.url]
        yield TracklistItem(
            page=page,
            fetched_url=response.url,
            requested_url=redirects[0],
            html_sha256=hashlib.sha256(response.body).hexdigest(),
            fetched_at=datetime.now(UTC),
            download_ms=(latency + time.perf_counter() - started) * 1000,
            correlation_id=response.meta.get("correlation_id"),
        )

    def on_error(self, failure: Failure) -> list[TracklistRefused]:
        """Errback: a request that failed for good (after retries) or was blocked.

        For a tracklist page, an anti-bot answer or a 404/410 is also handed to the pipelines
        (:class:`TracklistRefused`): a stored tracklist is then marked blocked or gone.
        """
        request = getattr(failure, "request", None)
        if isinstance(failure.value, CrawlerStopping):
            # Not sent because the crawl stops: no outcome, a worker hands the request back.
            self.count("requests/not_sent_stopping")
            return []
        status = "blocked" if isinstance(failure.value, BlockedByAntiBot) else "failed"
        self.count(f"requests/{status}")
        correlation_id = request.meta.get("correlation_id") if request is not None else None
        self.logger.warning(
            "%s %s: %s",
            status,
            getattr(request, "url", "?"),
            failure.value,
            extra={"correlation_id": correlation_id},
        )
        if request is None:
            return []
        refused = self._refusal(request, failure.value)
        error = error_text(failure.value) if failure.value is not None else status
        if refused is not None and refused.status == "gone":
            error = f"gone: the site answered {refused.reason}"
        self.request_failed(request, status, error)
        return [refused] if refused is not None else []

    def _refusal(self, request: Request, error: BaseException | None) -> TracklistRefused | None:
        """What a failed tracklist request says about the tracklist, if anything."""
        if request.callback != self.parse_tracklist:
            return None
        if isinstance(error, BlockedByAntiBot):
            return TracklistRefused(request.url, "blocked", error_text(error))
        if isinstance(error, HttpError) and error.response.status in GONE_STATUSES:
            return TracklistRefused(request.url, "gone", f"HTTP {error.response.status}")
        return None

    def request_failed(self, request: Request | None, status: str, error: str) -> None:
        """Hook for spiders that track requests (the worker records them); others only log."""

    def count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

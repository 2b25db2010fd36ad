"""Anti-bot pages (JS challenge, captcha, IP block) stop here: detected, counted, never solved.

Every text response is classified with :func:`crawler.pages.classify` (the answer is left in
``request.meta["tracklist_page_type"]`` for the spider). A challenge, captcha or IP-block
page pauses its host with a doubling backoff (``TRACKLIST_ANTIBOT_BACKOFF_BASE``, capped by
``TRACKLIST_ANTIBOT_BACKOFF_MAX``), counts ``antibot/<page_type>``, sends the
:data:`antibot_detected` signal and fails the request with :class:`BlockedByAntiBot`, so the
page never reaches a callback and is never stored as an (empty) tracklist. Nothing here
answers a challenge, solves a captcha or changes how the crawler looks.

A decoy (a tracklist page with invented names, :class:`crawler.pages.DecoyPage`) can only be
told once its rows are parsed, in the spider: the spider sends :data:`blocked_page_parsed`
and the decoy is handled here like any other anti-bot page (counted, host paused with the
same doubling backoff). A host's run of anti-bot pages ends with an ordinary page: at once
for listings, and for tracklist pages once a tracklist from the host is kept (scraped).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response, TextResponse

from crawler.items import TracklistRefused
from crawler.middlewares import defaults
from crawler.middlewares.policy import HostPolicy, host_key, host_policy
from crawler.pages import classify

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Signal sent with ``request``, ``response``, ``page_type`` and ``pause`` (seconds) when an
#: anti-bot page is met; the crawl-request tracker marks the request blocked on it.
antibot_detected = object()
#: Signal a spider sends with ``request``, ``response`` and ``page_type`` when parsing shows an
#: anti-bot answer the response alone did not (a decoy page).
blocked_page_parsed = object()


class BlockedByAntiBot(IgnoreRequest):
    """The site answered an anti-bot page instead of the requested one."""

    def __init__(self, page_type: str, url: str) -> None:
        super().__init__(f"{page_type} page instead of {url}")
        self.page_type = page_type
        self.url = url


class AntiBotMiddleware:
    """Detect anti-bot pages, pause their host, and fail their requests as blocked.

    Settings: ``TRACKLIST_ANTIBOT_ENABLED`` (default true), ``TRACKLIST_ANTIBOT_BACKOFF_BASE``,
    ``TRACKLIST_ANTIBOT_BACKOFF_MAX``.
    """

    def __init__(self, crawler: Crawler, policy: HostPolicy) -> None:
        settings = crawler.settings
        self._crawler = crawler
        self._policy = policy
        self._base = settings.getfloat(
            "TRACKLIST_ANTIBOT_BACKOFF_BASE", defaults.ANTIBOT_BACKOFF_BASE
        )
        self._max = settings.getfloat("TRACKLIST_ANTIBOT_BACKOFF_MAX", defaults.ANTIBOT_BACKOFF_MAX)
        # Consecutive anti-bot pages per host: each one doubles the pause.
        self._strikes: dict[str, int] = {}
        crawler.signals.connect(self._on_blocked_page_parsed, signal=blocked_page_parsed)
        crawler.signals.connect(self._on_item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings; ``NotConfigured`` when switched off."""
        if not crawler.settings.getbool("TRACKLIST_ANTIBOT_ENABLED", True):
            raise NotConfigured("TRACKLIST_ANTIBOT_ENABLED is off")
        return cls(crawler, host_policy(crawler))

    def pause_for(self, strikes: int) -> float:
        """The host's pause after ``strikes`` anti-bot pages in a row."""
        return float(min(self._base * 2 ** max(strikes - 1, 0), self._max))

    async def process_response(self, request: Request, response: Response) -> Response:
        """Pass ordinary pages on; turn anti-bot pages into :class:`BlockedByAntiBot`."""
        if not isinstance(response, TextResponse) or not response.body:
            return response
        page_type = classify(response.body, response.url)
        request.meta[defaults.META_PAGE_TYPE] = page_type
        if page_type not in defaults.BLOCKING_PAGE_TYPES:
            if page_type != "tracklist":  # a tracklist's verdict comes once it is parsed
                self._strikes.pop(host_key(request), None)
            return response
        await self._block(request, response, page_type)
        raise BlockedByAntiBot(page_type, request.url)

    async def _on_blocked_page_parsed(
        self, request: Request, response: Response, page_type: str
    ) -> None:
        await self._block(request, response, page_type)

    def _on_item_scraped(self, item: object, response: Response) -> None:
        if not isinstance(item, TracklistRefused) and response.request is not None:
            self._strikes.pop(host_key(response.request), None)

    async def _block(self, request: Request, response: Response, page_type: str) -> None:
        """Count an anti-bot page, pause its host (doubling per page in a row), tell listeners."""
        host = host_key(request)
        strikes = self._strikes[host] = self._strikes.get(host, 0) + 1
        pause = await self._policy.defer(host, self.pause_for(strikes), f"antibot_{page_type}")
        request.meta[defaults.META_BLOCKED] = page_type
        stats = self._crawler.stats
        assert stats is not None
        stats.inc_value(f"antibot/{page_type}")
        stats.inc_value("antibot/blocked")
        logger.warning(
            "%s page for %s (%d in a row on %s): request blocked, host paused %.0f s",
            page_type,
            request.url,
            strikes,
            host,
            pause,
        )
        await self._crawler.signals.send_catch_log_async(
            signal=antibot_detected,
            request=request,
            response=response,
            page_type=page_type,
            pause=pause,
        )

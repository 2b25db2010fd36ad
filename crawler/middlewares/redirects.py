"""Redirects stay on the site: every hop is checked before anything connects to its target.

Scrapy's RedirectMiddleware (a 301, 302, 303, 307 or 308 ``Location``) and
MetaRefreshMiddleware (``<meta http-equiv="refresh">``) answer a response with a new request
for the target, marked ``meta["redirect_urls"]``; it goes through the scheduler and then
through every downloader middleware's ``process_request`` before any connection. This
middleware comes first in that chain, before robots.txt (which would fetch the target host's
robots.txt) and the host pacing: a hop whose target fails :func:`domain.site.check_redirect`
for ``TRACKLIST_BASE_URL`` fails with :class:`OffSiteRedirect`, counted as
``redirects/off_site``. Checking the request rather than the ``Location`` header checks the
exact URL Scrapy would fetch, for both kinds of redirect, each hop of a chain in turn, and
robots.txt requests too (they pass through the same chain).
Same-site hops go on to Scrapy's own handling (``REDIRECT_MAX_TIMES`` still applies).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

from domain.site import UrlRejected, check_redirect

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class OffSiteRedirect(IgnoreRequest):
    """The site redirected a request to another host or port: it is not followed.

    The message names no target (it is recorded where API clients read it); ``problem`` says
    which rule the target broke, for logs.
    """

    code = "off_site_redirect"

    def __init__(self, rejected: UrlRejected) -> None:
        super().__init__("the site redirected to another host")
        self.problem = rejected.problem


class OffSiteRedirectMiddleware:
    """Fail redirect hops that leave ``TRACKLIST_BASE_URL`` before they are fetched.

    Off (``NotConfigured``) when Scrapy follows no redirects (``REDIRECT_ENABLED`` and
    ``METAREFRESH_ENABLED`` both false).
    """

    def __init__(self, base_url: str, stats: StatsCollector) -> None:
        self._base_url = base_url
        self._stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings."""
        settings = crawler.settings
        if not (settings.getbool("REDIRECT_ENABLED") or settings.getbool("METAREFRESH_ENABLED")):
            raise NotConfigured("Scrapy follows no redirects")
        assert crawler.stats is not None
        return cls(str(settings.get("TRACKLIST_BASE_URL")), crawler.stats)

    def process_request(self, request: Request) -> None:
        """Let first requests and same-site hops through; raise for a hop elsewhere."""
        chain = request.meta.get("redirect_urls")
        if not chain:
            return
        try:
            check_redirect(request.url, chain[-1], self._base_url)
        except UrlRejected as exc:
            self._stats.inc_value("redirects/off_site")
            logger.warning("redirect from %s to %s not followed: %s", chain[-1], request.url, exc)
            raise OffSiteRedirect(exc) from None

"""The redirect check on its own: which requests it lets through, what it counts, when it is off.

The crawls in tests/e2e/test_crawl_redirects.py show that nothing reaches another host.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.middlewares.redirects import OffSiteRedirect, OffSiteRedirectMiddleware
from domain.site import Problem

BASE = "http://127.0.0.1:8123"
PAGE = BASE + "/tracklist/old1/a.html"


def _middleware(**settings: object) -> tuple[OffSiteRedirectMiddleware, dict[str, object]]:
    crawler = get_crawler(settings_dict={"TRACKLIST_BASE_URL": BASE, **settings})
    crawler._apply_settings()
    assert crawler.stats is not None
    return OffSiteRedirectMiddleware.from_crawler(crawler), crawler.stats.get_stats()


def _hop(url: str, *chain: str) -> Request:
    return Request(url, meta={"redirect_urls": list(chain or [PAGE])})


def test_first_requests_and_same_site_hops_go_through() -> None:
    middleware, stats = _middleware()
    # Not a redirect: the spiders checked it (SiteSpider.site_url), robots.txt is the site's.
    assert middleware.process_request(Request("http://elsewhere.test/robots.txt")) is None
    assert middleware.process_request(_hop(BASE + "/tracklist/new1/b.html")) is None
    assert middleware.process_request(_hop(BASE + "/c.html", PAGE, BASE + "/b.html")) is None
    assert "redirects/off_site" not in stats


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://localhost:8123/x", Problem.HOST),
        ("http://127.0.0.1:8124/x", Problem.PORT),
        ("http://[::1]:8123/x", Problem.IP_LITERAL),
    ],
)
def test_a_hop_elsewhere_fails_and_is_counted(url: str, problem: Problem) -> None:
    middleware, stats = _middleware()
    with pytest.raises(OffSiteRedirect) as info:
        middleware.process_request(_hop(url, PAGE, BASE + "/tracklist/new1/b.html"))
    assert info.value.problem is problem
    assert str(info.value) == "the site redirected to another host"
    assert stats["redirects/off_site"] == 1


def test_off_when_scrapy_follows_no_redirects() -> None:
    with pytest.raises(NotConfigured):
        _middleware(REDIRECT_ENABLED=False, METAREFRESH_ENABLED=False)
    assert _middleware(REDIRECT_ENABLED=False)[0] is not None

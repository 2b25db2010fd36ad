"""robots.txt: Disallow never fetched, Crawl-delay spaces requests, a 5xx defers the host."""

from __future__ import annotations

from typing import Any

import pytest
from politeness_crawl import TOLERANCE, TRACKLISTS, USER_AGENT, gaps, run_crawl

from crawler.localsite import LocalSite, Rule, robots_txt

pytestmark = pytest.mark.programs


@pytest.mark.parametrize(
    ("crawl_delay", "download_delay", "expected_gap"),
    [(0.5, 0.0, 0.5), (0.2, 0.6, 0.6)],
    ids=["crawl-delay-wins", "download-delay-wins"],
)
def test_disallow_never_fetched_and_requests_spaced(
    site: LocalSite,
    crawl_settings: dict[str, Any],
    crawl_delay: float,
    download_delay: float,
    expected_gap: float,
) -> None:
    site.robots_txt = robots_txt(crawl_delay=crawl_delay)
    urls = [site.url(p) for p in TRACKLISTS[:4]]
    urls += [site.url("/user/someone.html"), site.url("/action/like.php"), site.url("/js/a.js")]
    result = run_crawl(urls, {**crawl_settings, "DOWNLOAD_DELAY": download_delay})

    log = site.requests()
    assert log[0].path == "/robots.txt"
    assert sorted(r.path for r in log[1:]) == sorted(TRACKLISTS[:4])
    assert all(not r.path.startswith(("/user/", "/action/", "/js/")) for r in log)
    assert result["stats"]["robotstxt/forbidden"] == 3
    assert min(gaps(log)) >= expected_gap - TOLERANCE, gaps(log)
    assert {r.user_agent for r in log} == {USER_AGENT}
    assert len(result["items"]) == 4
    assert {item["page_type"] for item in result["items"]} == {"tracklist"}


def test_slow_responses_do_not_squeeze_the_spacing(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    # A slow answer holds Scrapy's downloader slot; the next request must still wait a full
    # Crawl-delay after the slow one went out, AutoThrottle on or not.
    site.add_rule(TRACKLISTS[0], Rule(delay=0.8))
    site.add_rule(TRACKLISTS[2], Rule(delay=0.8))
    settings = {**crawl_settings, "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0.1}
    result = run_crawl([site.url(p) for p in TRACKLISTS[:4]], settings)
    log = site.requests()
    assert len(log) == 5
    assert min(gaps(log)) >= 0.5 - TOLERANCE, gaps(log)
    assert len(result["items"]) == 4


def test_robots_5xx_defers_the_host_then_crawls(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    # Retry-After (1.5 s) asks for longer than the first deferral (0.5 s): it wins.
    site.add_rule("/robots.txt", Rule(status=503, retry_after="1.5", times=1))
    settings = {**crawl_settings, "TRACKLIST_ROBOTS_5XX_DEFER": 0.5}
    result = run_crawl([site.url(p) for p in TRACKLISTS[:2]], settings)
    log = site.requests()
    assert [(r.path, r.status) for r in log[:2]] == [("/robots.txt", 503), ("/robots.txt", 200)]
    # Nothing was fetched while the rules were unknown, and not before the deferral ended.
    assert log[1].time - log[0].time >= 1.5 - TOLERANCE
    assert sorted(r.path for r in log[2:]) == sorted(TRACKLISTS[:2])
    assert result["stats"]["robotstxt/deferred"] == 1
    assert len(result["items"]) == 2


def test_robots_failing_for_good_drops_requests_unfetched(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    site.add_rule("/robots.txt", Rule(status=500))
    settings = {
        **crawl_settings,
        "TRACKLIST_ROBOTS_5XX_DEFER": 0.3,
        "TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS": 2,
    }
    result = run_crawl([site.url(p) for p in TRACKLISTS[:3]], settings)
    log = site.requests()
    assert [r.path for r in log] == ["/robots.txt", "/robots.txt"]
    assert log[1].time - log[0].time >= 0.3 - TOLERANCE
    assert result["items"] == []
    assert {e["error"] for e in result["errors"]} == {"RobotsTxtUnavailable"}
    assert len(result["errors"]) == 3

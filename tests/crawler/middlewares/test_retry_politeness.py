"""Retries wait: Retry-After (seconds or HTTP-date, capped) pauses the host; backoff grows."""

from __future__ import annotations

import time
from typing import Any

import pytest
from politeness_crawl import TOLERANCE, TRACKLISTS, gaps, run_crawl

from crawler.localsite import LocalSite, Rule, http_date, robots_txt
from crawler.middlewares.retry import parse_retry_after

pytestmark = pytest.mark.programs


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(b" 3 ") == 3.0
    assert parse_retry_after(http_date(now + 30), now=now) == 30.0
    assert parse_retry_after(http_date(now - 30), now=now) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0
    for bad in (None, "", "-5", "soon", "Wed, 99 Foo"):
        assert parse_retry_after(bad) is None


def test_retry_after_seconds_pauses_the_host(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    site.robots_txt = robots_txt(crawl_delay=0.2)
    site.add_rule(TRACKLISTS[0], Rule(status=429, retry_after="2", times=1))
    result = run_crawl([site.url(p) for p in TRACKLISTS[:3]], crawl_settings)
    log = site.requests()
    limited = next(i for i, r in enumerate(log) if r.status == 429)
    # No request of any kind reached the host until Retry-After had passed.
    assert log[limited + 1].time - log[limited].time >= 2.0 - TOLERANCE
    assert [r.status for r in log].count(200) == 4  # robots.txt + 3 pages
    assert len(result["items"]) == 3
    assert result["stats"]["retry/retry_after"] == 1
    assert result["stats"]["politeness/deferred/http_429"] == 1


def test_retry_after_http_date_and_cap(site: LocalSite, crawl_settings: dict[str, Any]) -> None:
    site.robots_txt = robots_txt(crawl_delay=0.2)
    # An HTTP-date has whole seconds: 3 s after the answer means a wait of more than 2 s.
    site.add_rule(TRACKLISTS[0], Rule(status=503, retry_after_date_in=3, times=1))
    site.add_rule(TRACKLISTS[1], Rule(status=429, retry_after="3600", times=1))
    result = run_crawl([site.url(TRACKLISTS[0])], crawl_settings)
    log = site.requests(path=TRACKLISTS[0])
    assert [r.status for r in log] == [503, 200]
    assert log[1].time - log[0].time >= 2.0 - TOLERANCE

    site.clear_log()
    started = time.monotonic()
    result = run_crawl(
        [site.url(TRACKLISTS[1])], {**crawl_settings, "TRACKLIST_RETRY_AFTER_MAX": 1}
    )
    log = site.requests(path=TRACKLISTS[1])
    assert [r.status for r in log] == [429, 200]
    # Capped at 1 s, not the hour the server asked for.
    assert 1.0 - TOLERANCE <= log[1].time - log[0].time < 3.0
    assert time.monotonic() - started < 15
    assert len(result["items"]) == 1


def test_backoff_doubles_then_gives_up(site: LocalSite, crawl_settings: dict[str, Any]) -> None:
    site.robots_txt = robots_txt(crawl_delay=0.1)
    site.add_rule(TRACKLISTS[0], Rule(status=500, times=2))
    site.add_rule(TRACKLISTS[1], Rule(status=502))
    settings = {**crawl_settings, "RETRY_TIMES": 2, "TRACKLIST_RETRY_DELAY_BASE": 0.4}
    result = run_crawl([site.url(TRACKLISTS[0])], settings)
    attempts = site.requests(path=TRACKLISTS[0])
    assert [r.status for r in attempts] == [500, 500, 200]
    spacing = gaps(attempts)
    assert spacing[0] >= 0.4 - TOLERANCE
    assert spacing[1] >= 0.8 - TOLERANCE
    assert len(result["items"]) == 1

    result = run_crawl([site.url(TRACKLISTS[1])], settings)
    attempts = site.requests(path=TRACKLISTS[1])
    assert [r.status for r in attempts] == [502, 502, 502]
    assert min(gaps(attempts)) >= 0.4 - TOLERANCE
    assert result["items"] == []
    assert [e["error"] for e in result["errors"]] == ["HttpError"]
    assert result["stats"]["retry/max_reached"] == 1


def test_connection_errors_are_retried_with_backoff(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    site.robots_txt = robots_txt(crawl_delay=0.1)
    site.add_rule(TRACKLISTS[0], Rule(drop_connection=True, times=3))
    settings = {**crawl_settings, "TRACKLIST_RETRY_DELAY_BASE": 0.3}
    result = run_crawl([site.url(TRACKLISTS[0])], settings)
    attempts = site.requests(path=TRACKLISTS[0])
    # The first drop happens on the keep-alive connection robots.txt used: Twisted's pool
    # re-sends a GET once, at once, when a reused connection fails (a stale connection
    # usually means the server never saw the request). Scrapy's retries come after that.
    assert [r.status for r in attempts] == [-1, -1, -1, 200]
    spacing = gaps(attempts)
    assert spacing[1] >= 0.3 - TOLERANCE
    assert spacing[2] >= 0.6 - TOLERANCE
    assert len(result["items"]) == 1

"""A running crawl serves Prometheus metrics: pages, stored items, drops by reason, anti-bot
blocks, retries, 429s and robots.txt denials, each moved by a page that causes it."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest
from support.crawling import crawl_env, start_spider

from crawler.localsite import LocalSite, Rule, robots_txt
from store.db import make_engine
from store.migrate import upgrade

pytestmark = pytest.mark.programs

GOOD = "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
BLOCKED = "/tracklist/zzzz0002/blocked.html"
SLOW = "/tracklist/l3uw499/matroda-club-space-miami-united-states-2023-08-05.html"
THROTTLED = (
    "/tracklist/1pmwyfn1/max-styler-circuitgrounds-edc-las-vegas-united-states-2025-05-16.html"
)
FORBIDDEN = "/tracklist/zzzz0003/disallowed.html"
EMPTY = "/tracklist/zzzz0004/empty.html"
# A tracklist page that parses but has no rows: validation drops it (reason no_rows).
EMPTY_PAGE = (
    b'<html><head><title>Empty set</title></head><body><h1 id="pageTitle">Empty set</h1>'
    b'<div id="tlTab" data-id="zzzz0004"></div></body></html>'
)
SEEN_WHILE_RUNNING = (
    'tracklists_crawler_items_total{outcome="created"} 1.0',  # GOOD (THROTTLED's retry is later)
    'tracklists_crawler_blocked_total{page_type="captcha"} 1.0',
    'tracklists_crawler_responses_total{status="429"} 1.0',
    "tracklists_crawler_retries_total 1.0",
    "tracklists_crawler_robots_denied_total 1.0",
    'tracklists_crawler_drops_total{reason="no_rows"} 1.0',
    'tracklists_crawler_stat{name="response_received_count"}',
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            return str(answer.read().decode())
    except OSError:
        return ""


def test_metrics_are_served_while_the_crawl_runs(
    real_pages: Path, sqlite_url: str, redis_url: str
) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    robots = robots_txt(crawl_delay=None, disallow=("/tracklist/zzzz0003/",))
    with LocalSite.from_directories([real_pages], robots_txt=robots) as site:
        site.add_rule(BLOCKED, Rule(antibot="captcha"))
        site.add_rule(THROTTLED, Rule(status=429, retry_after="1", times=1))
        site.add_rule(EMPTY, Rule(status=200, body=EMPTY_PAGE))
        site.add_rule(SLOW, Rule(delay=8))  # keeps the crawl alive while we look
        paths = (GOOD, BLOCKED, THROTTLED, FORBIDDEN, EMPTY, SLOW)
        urls = ",".join(f"https://www.1001tracklists.com{path}" for path in paths)
        crawl = start_spider(
            "tracklist",
            crawl_env(site.base_url, sqlite_url, redis_url),
            f"url={urls}",
            settings={
                "TRACKLIST_CRAWLER_METRICS_PORT": str(port),
                "TRACKLIST_ANTIBOT_BACKOFF_BASE": "0.2",
                "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            },
        )
        try:
            deadline = time.monotonic() + 60
            text = ""
            while not all(series in text for series in SEEN_WHILE_RUNNING):
                assert time.monotonic() < deadline, text or "no metrics served"
                assert crawl.poll() is None, f"the crawl ended before metrics were seen:\n{text}"
                time.sleep(0.3)
                text = _scrape(port)
            assert "tracklists_crawler_pages_total" in text
        finally:
            crawl.wait(timeout=60)
    assert crawl.returncode == 0
    assert _scrape(port) == ""  # the server stops with the crawl

"""Anti-bot pages are counted, pause the host with growing backoff, and are never yielded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from politeness_crawl import TOLERANCE, TRACKLISTS, run_crawl

from crawler.localsite import LocalSite, Rule, robots_txt
from crawler.pages import classify

pytestmark = pytest.mark.programs

ANTIBOT_FILES = {
    "challenge": "challenge_jsforward_tracklist-2hjnqr0t_2023.html",
    "captcha": "captcha_image_tracklist-25fhn7c9_2026.excerpt.html",
    "ip_blocked": "block_ip-limited_tracklist-l3uw499_2026.html",
}


@pytest.mark.parametrize("kind", sorted(ANTIBOT_FILES))
def test_the_real_antibot_pages_are_recognised(real_pages: Path, kind: str) -> None:
    assert classify((real_pages / ANTIBOT_FILES[kind]).read_bytes()) == kind


def test_antibot_pages_block_requests_and_pause_the_host(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    site.robots_txt = robots_txt(crawl_delay=0.1)
    blocked = {TRACKLISTS[0]: "challenge", TRACKLISTS[1]: "captcha", TRACKLISTS[2]: "ip_blocked"}
    for path, kind in blocked.items():
        site.add_rule(path, Rule(antibot=kind))
    settings = {
        **crawl_settings,
        "TRACKLIST_ANTIBOT_BACKOFF_BASE": 0.4,
        # One request at a time in a known order, so the pauses can be checked one by one.
        "CONCURRENT_REQUESTS": 1,
    }
    urls = [site.url(p) for p in TRACKLISTS[:4]]
    result = run_crawl(urls, settings)

    # Only the real tracklist became an item; the anti-bot pages failed as blocked.
    assert [item["url"] for item in result["items"]] == [site.url(TRACKLISTS[3])]
    assert sorted((e["error"], e["page_type"]) for e in result["errors"]) == [
        ("BlockedByAntiBot", "captcha"),
        ("BlockedByAntiBot", "challenge"),
        ("BlockedByAntiBot", "ip_blocked"),
    ]
    stats = result["stats"]
    assert (stats["antibot/challenge"], stats["antibot/captcha"], stats["antibot/ip_blocked"]) == (
        1,
        1,
        1,
    )
    assert stats["antibot/blocked"] == 3
    assert [s["pause"] for s in result["antibot_signals"]] == pytest.approx([0.4, 0.8, 1.6], 0.1)

    # Each anti-bot page paused the host: 0.4 s, then 0.8 s, then 1.6 s (doubling).
    log = [r for r in site.requests() if r.path != "/robots.txt"]
    assert [r.path for r in log] == TRACKLISTS[:4]
    for before, after, pause in zip(log, log[1:], [0.4, 0.8, 1.6], strict=False):
        assert after.time - before.time >= pause - TOLERANCE
    # Never solved: no form was posted back, nothing but the four GETs.
    assert {r.method for r in site.requests()} == {"GET"}

"""What the site did not really say is never stored: decoys, pages cut short, deleted sets.

Real crawls (``scrapy crawl tracklist``) of the local replay site into PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, run_spider

from crawler.localsite import LocalSite, Rule, robots_txt
from store.models import OutboxEvent, Tracklist, TracklistConflict, TracklistVersion

pytestmark = pytest.mark.e2e

BICEP = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
BICEP_PATH = "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
CURBI_PATH = "/tracklist/nsgpmht/curbi-tape-06-2021-03-12.html"


def _decoy(body: bytes) -> bytes:
    """The page as the site shows suspected bots: every title invented, microdata kept."""
    root = lxml.html.fromstring(body)
    for number, title in enumerate(
        root.xpath("//span[contains(@class, 'trackValue')]/span[last()]//span")
    ):
        title.text = f"Qzx Invented {number}"
    return lxml.html.tostring(root, doctype="<!DOCTYPE html>")


def _crawl(site: LocalSite, postgres_url: str, redis_url: str, *paths: str) -> str:
    env = crawl_env(site.base_url, postgres_url, redis_url)
    urls = ",".join(site.url(path) for path in paths)
    result = run_spider(
        "tracklist",
        env,
        f"url={urls}",
        settings={"TRACKLIST_ANTIBOT_BACKOFF_BASE": "0.6", "CONCURRENT_REQUESTS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def _stored(database: Engine, site_id: str) -> Tracklist | None:
    with Session(database) as session:
        return session.scalars(select(Tracklist).where(Tracklist.site_id == site_id)).first()


def _events(database: Engine) -> int:
    with Session(database) as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def test_a_decoy_is_blocked_paused_counted_and_never_stored(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    # A crawl delay, as the site has: the decoy is parsed (and the host paused) before the
    # next request is due.
    site.robots_txt = robots_txt(crawl_delay=0.3)
    site.add_rule(BICEP_PATH, Rule(body=_decoy((real_pages / BICEP).read_bytes())))
    log = _crawl(site, postgres_url, redis_url, BICEP_PATH, CURBI_PATH)
    assert _stored(database, "2hjnqr0t") is None  # nothing of the decoy
    assert _stored(database, "nsgpmht") is not None  # the genuine page beside it
    assert "'antibot/decoy': 1" in log
    assert "decoy page for" in log
    fetched = [r for r in site.requests() if r.path != "/robots.txt"]
    assert [r.path for r in fetched] == [BICEP_PATH, CURBI_PATH]
    # The decoy paused the host as a challenge does (TRACKLIST_ANTIBOT_BACKOFF_BASE), past
    # the crawl delay.
    assert fetched[1].time - fetched[0].time >= 0.6 - 0.01


def test_a_stored_tracklist_met_by_a_decoy_keeps_its_data_and_is_marked_blocked(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    stored = _stored(database, "2hjnqr0t")
    assert stored is not None
    events = _events(database)
    site.add_rule(BICEP_PATH, Rule(body=_decoy((real_pages / BICEP).read_bytes())))
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    after = _stored(database, "2hjnqr0t")
    assert after is not None
    assert (after.status, after.version, after.track_count) == ("blocked", 1, 14)
    assert _events(database) == events + 1  # tracklist.status_changed only
    site.rules.clear()
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    again = _stored(database, "2hjnqr0t")
    assert again is not None
    assert again.status == "active"


def test_a_page_cut_short_is_held_not_published(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    events = _events(database)
    body = (real_pages / BICEP).read_bytes()
    site.add_rule(BICEP_PATH, Rule(body=body[: len(body) // 2]))
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    stored = _stored(database, "2hjnqr0t")
    assert stored is not None
    assert (stored.version, stored.track_count, stored.status) == (1, 14, "active")
    assert _events(database) == events
    with Session(database) as session:
        held = session.scalars(select(TracklistVersion).where(TracklistVersion.version == 2)).one()
        assert not held.published
        conflict = session.scalars(select(TracklistConflict)).one()
        assert (conflict.kind, conflict.status) == ("short_page", "open")


@pytest.mark.parametrize("status", [404, 410])
def test_a_deleted_tracklist_is_gone_and_still_served(
    site: LocalSite,
    database: Engine,
    postgres_url: str,
    redis_url: str,
    status: int,
) -> None:
    _crawl(site, postgres_url, redis_url, BICEP_PATH)
    site.add_rule(BICEP_PATH, Rule(status=status, body=b"not found"))
    log = _crawl(site, postgres_url, redis_url, BICEP_PATH)
    stored = _stored(database, "2hjnqr0t")
    assert stored is not None
    assert (stored.status, stored.track_count) == ("gone", 14)
    assert "'store/marked_gone': 1" in log
    with Session(database) as session:
        changed = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "tracklist.status_changed")
        ).one()
        assert changed.payload["status"] == "gone"
        assert changed.payload["reason"] == f"HTTP {status}"

"""What a tracklist URL needs before a crawl is queued for it: the rules every intake shares.

``POST /tracklist``, MQ retrieval requests and batch crawls decide the same way: a URL that
passes :func:`api.urls.canonical_tracklist_url` (SSRF rules) names a stored tracklist by the
site's id; a stored tracklist scraped within the maximum age needs no crawl; an active
(queued or running) request for the URL is reused unless a refresh is forced; anything else is
submitted to :class:`store.crawl_queue.CrawlQueue`.

Flask-free, so the API, the consumers and the CLI use the same code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.urls import canonical_tracklist_url
from store.models import CrawlRequest, Tracklist, utcnow

# Clients name tracklists by their public URL whatever site the crawler is pointed at (it maps
# them onto TRACKLIST_SCRAPING_BASE_URL, e.g. the local replay site).
PUBLIC_SITE = "https://www.1001tracklists.com"
ACTIVE_STATUSES = ("queued", "running")
_SITE_ID = re.compile(r"/tracklist/([0-9a-z]+)/")


def canonical_public_url(raw: str) -> str:
    """The canonical public URL of a tracklist page; raises :class:`api.urls.UrlRejected`."""
    return canonical_tracklist_url(raw, PUBLIC_SITE)


def stored_by_url(session: Session, url: str) -> Tracklist | None:
    """The stored tracklist of a canonical URL, found by the site's id (hosts may differ)."""
    match = _SITE_ID.search(url)
    if match is None:
        return None
    return session.scalars(select(Tracklist).where(Tracklist.site_id == match.group(1))).first()


def is_fresh(tracklist: Tracklist, max_age: timedelta) -> bool:
    """True when ``tracklist`` was scraped within ``max_age`` (no crawl needed)."""
    return aware(tracklist.scraped_at) > utcnow() - max_age


def active_request(session: Session, url: str) -> CrawlRequest | None:
    """The newest queued or running request for ``url``: the workers already have it."""
    return session.scalars(
        select(CrawlRequest)
        .where(CrawlRequest.url == url, CrawlRequest.status.in_(ACTIVE_STATUSES))
        .order_by(CrawlRequest.created_at.desc())
    ).first()


def aware(moment: datetime) -> datetime:
    """``moment`` as UTC-aware (SQLite hands back naive datetimes; every stored time is UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""The one decision for a tracklist URL a client asks for: answer from the store, or crawl.

``POST /tracklist``, MQ retrieval requests and batch crawls all call :func:`decide`, which
takes a URL already canonical (:func:`domain.site.canonical_public_url`: the SSRF rules) and
answers with, in this order:

1. **The caller's request.** A correlation id the caller gave that already names a request is
   that request (a retried call or a redelivered message), or :class:`CorrelationConflict`
   when it was given for another URL.
2. **The stored tracklist**, when it was scraped within ``max_age`` and no refresh is forced:
   nothing to crawl.
3. **The caller's request again**, still running or finished: no second crawl for a retry.
4. **An active request** (queued or running) for the URL, unless a refresh is forced: the
   workers already have it, so the page is not queued twice. Its correlation id is the one
   to follow, whatever id the caller offered.
5. **A new request**, under the caller's correlation id when one was given, submitted to
   :class:`store.crawl_queue.CrawlQueue` (which commits the row before pushing to Redis).

Flask-free, so the API, the consumers and the CLI use the same code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.site import tracklist_site_id
from store.crawl_queue import CrawlQueue
from store.models import CrawlRequest, Tracklist, TracklistAlias, utcnow

ACTIVE_STATUSES = ("queued", "running")


class CorrelationConflict(ValueError):
    """A caller's correlation id already names a request for another URL."""

    def __init__(self, correlation_id: uuid.UUID) -> None:
        super().__init__(f"correlation id {correlation_id} belongs to another request")
        self.correlation_id = correlation_id


@dataclass(frozen=True, slots=True)
class Decision:
    """Exactly one of: the stored, fresh ``tracklist`` or the crawl ``request`` to follow."""

    tracklist: Tracklist | None = None
    request: CrawlRequest | None = None


def decide(
    session: Session,
    queue: CrawlQueue,
    url: str,
    *,
    max_age: timedelta,
    force_refresh: bool = False,
    correlation_id: uuid.UUID | None = None,
    requested_by: str | None = None,
) -> Decision:
    """Answer ``url`` from the store or queue a crawl for it (see the module docstring).

    ``session`` is used for reads only; a new request is committed by ``queue``. Raises
    :class:`CorrelationConflict` when ``correlation_id`` names a request for another URL.
    """
    callers = _callers_request(session, correlation_id, url)
    stored = stored_by_url(session, url)
    if stored is not None and not force_refresh and is_fresh(stored, max_age):
        return Decision(tracklist=stored)
    if callers is not None:
        return Decision(request=callers)
    if not force_refresh:
        active = active_request(session, url)
        if active is not None:
            return Decision(request=active)
    try:
        request = queue.submit(
            url,
            correlation_id=str(correlation_id) if correlation_id else None,
            force_refresh=force_refresh,
            requested_by=requested_by,
        )
    except IntegrityError:
        # A concurrent call with the same correlation id queued it first: answer with that one.
        session.rollback()
        callers = _callers_request(session, correlation_id, url)
        if callers is None:
            raise
        return Decision(request=callers)
    return Decision(request=request)


def stored_by_url(session: Session, url: str) -> Tracklist | None:
    """The published tracklist of a canonical URL, found by the site's id (hosts may differ),
    else by an alias: the id it had when the site moved it (:class:`TracklistAlias`).

    A held first crawl (nothing published yet) is not stored for anyone but its editors.
    """
    site_id = tracklist_site_id(url)
    if site_id is None:
        return None
    published = Tracklist.version > 0
    found = session.scalars(
        select(Tracklist).where(Tracklist.site_id == site_id, published)
    ).first()
    if found is not None:
        return found
    return session.scalars(
        select(Tracklist)
        .join(TracklistAlias, TracklistAlias.tracklist_id == Tracklist.id)
        .where(TracklistAlias.site_id == site_id.lower(), published)
    ).first()


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


def _callers_request(
    session: Session, correlation_id: uuid.UUID | None, url: str
) -> CrawlRequest | None:
    if correlation_id is None:
        return None
    found = session.scalars(
        select(CrawlRequest).where(CrawlRequest.correlation_id == correlation_id)
    ).first()
    if found is not None and found.url != url:
        raise CorrelationConflict(correlation_id)
    return found

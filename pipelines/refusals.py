"""A tracklist's status follows what the site answers: active, gone (404, 410) or blocked.

A refusal (:class:`crawler.items.TracklistRefused`) never stores anything of the answer: a
tracklist already stored under the URL's site id keeps its data, still served, and only its
``status`` changes. A page stored again makes it ``active``. Every change is announced with a
``tracklist.status_changed`` event, in the transaction of the change.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crawler.items import TracklistRefused
from domain.site import tracklist_site_id
from service.editing.versions import locked_by_site_id
from store.models import Tracklist
from store.outbox import TRACKLIST_STATUS_CHANGED, add_event


def record_refusal(session: Session, refused: TracklistRefused) -> str | None:
    """Mark the stored tracklist of ``refused.url``; returns its previous status if it changed."""
    site_id = tracklist_site_id(refused.url)
    if site_id is None:
        return None
    tracklist = locked_by_site_id(session, site_id)
    if tracklist is None or not tracklist.is_published:
        return None  # nothing published to mark: a first crawl refused stores nothing
    return change_status(session, tracklist, refused.status, refused.reason)


def change_status(
    session: Session,
    tracklist: Tracklist,
    status: str,
    reason: str,
    correlation_id: str | None = None,
) -> str | None:
    """Set ``tracklist.status`` and announce it; returns the previous status, None if same."""
    previous = tracklist.status
    if previous == status:
        return None
    tracklist.status = status
    payload = {
        "tracklist_id": str(tracklist.id),
        "url": tracklist.url,
        "status": status,
        "previous_status": previous,
        "reason": reason,
    }
    add_event(session, TRACKLIST_STATUS_CHANGED, payload, correlation_id=correlation_id)
    return previous

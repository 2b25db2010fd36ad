"""Re-crawls held back for an editor, and how editors resolve them.

Two kinds (``TracklistConflict.kind``), both kept as an unpublished ``crawl`` version beside
what is published, and never served until an editor accepts them:

- ``edit``: while the current version is an ``edit`` or a ``rollback``, a crawl never
  replaces it: :func:`hold_crawl` keeps a changed page and opens a conflict, or moves the
  open one forward to the newest crawl.
- ``short_page``: a page that looks cut short (:func:`domain.integrity.short_page_reason`):
  :func:`hold_short_page` keeps it with its reason. A later complete crawl that is published
  supersedes it (:func:`supersede_short_page`).

Both are called by :func:`pipelines.persist.store_tracklist`. A page equal to the latest
crawled version is a no-op, so re-crawling an unchanged page never opens a second conflict.

An editor resolves an open conflict with :func:`resolve`: ``keep`` the edit (dismiss),
``accept`` the crawl (its document is published as a new ``crawl`` version), or ``merge``
(publish an open draft, typically started from the crawled version).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.editing.drafts import publish_draft
from service.editing.errors import Conflict, Invalid, NotFound, Problem
from service.editing.versions import (
    content_hash,
    locked_tracklist,
    next_number,
    publish,
    version_of,
)
from store.models import Tracklist, TracklistConflict, TracklistVersion, utcnow

Action = Literal["keep", "accept", "merge"]
_STATUS_OF: dict[str, str] = {"keep": "kept", "accept": "accepted", "merge": "merged"}
EDIT = "edit"
SHORT_PAGE = "short_page"


def hold_crawl(
    session: Session, tracklist: Tracklist, current: TracklistVersion, content: dict[str, Any]
) -> bool:
    """Keep a crawled document beside the human ``current`` version; False if nothing new.

    A changed page becomes an unpublished version; a conflict is opened when it differs from
    what is published (the page may have come to agree with the edit), or the open conflict
    now points at it.
    """
    reason = f"page changed on re-crawl; held back: version {current.version} is a human edit"
    held = _held_version(session, tracklist, content, reason)
    if held is None:
        return False
    open_conflict = _open_conflict(session, tracklist.id)
    if open_conflict is not None:
        open_conflict.crawl_version = held.version
    elif held.content_hash != current.content_hash:
        session.add(
            TracklistConflict(
                tracklist_id=tracklist.id,
                edit_version=current.version,
                crawl_version=held.version,
                status="open",
                kind=EDIT,
            )
        )
    session.flush()
    return True


def hold_short_page(
    session: Session, tracklist: Tracklist, content: dict[str, Any], reason: str
) -> bool:
    """Keep a page that looks cut short, unpublished, for an editor; False if nothing new.

    The open conflict of the tracklist, if any, now points at this crawl; otherwise a
    ``short_page`` conflict is opened against what is published (version 0: nothing yet).
    """
    held = _held_version(session, tracklist, content, f"held: {reason}")
    if held is None:
        return False
    open_conflict = _open_conflict(session, tracklist.id)
    if open_conflict is not None:
        open_conflict.crawl_version = held.version
        if open_conflict.kind == SHORT_PAGE:
            open_conflict.reason = reason
    else:
        session.add(
            TracklistConflict(
                tracklist_id=tracklist.id,
                edit_version=tracklist.version,
                crawl_version=held.version,
                status="open",
                kind=SHORT_PAGE,
                reason=reason,
            )
        )
    session.flush()
    return True


def supersede_short_page(session: Session, tracklist_id: uuid.UUID) -> None:
    """A complete crawl was just published: an open ``short_page`` conflict is moot."""
    open_conflict = _open_conflict(session, tracklist_id)
    if open_conflict is not None and open_conflict.kind == SHORT_PAGE:
        open_conflict.status = "superseded"
        open_conflict.resolved_by = "crawl"
        open_conflict.resolved_at = utcnow()


def _held_version(
    session: Session, tracklist: Tracklist, content: dict[str, Any], reason: str
) -> TracklistVersion | None:
    """A new unpublished crawl version, or None when it equals the latest crawled one."""
    digest = content_hash(content)
    latest_crawl = session.scalars(
        select(TracklistVersion.content_hash)
        .where(TracklistVersion.tracklist_id == tracklist.id, TracklistVersion.origin == "crawl")
        .order_by(TracklistVersion.version.desc())
        .limit(1)
    ).first()
    if latest_crawl == digest:
        return None
    held = TracklistVersion(
        tracklist_id=tracklist.id,
        version=next_number(session, tracklist.id),
        origin="crawl",
        published=False,
        content=content,
        content_hash=digest,
        reason=reason,
    )
    session.add(held)
    return held


def conflicts_of(session: Session, tracklist_id: uuid.UUID) -> list[TracklistConflict]:
    """The tracklist's conflicts, newest first; :class:`NotFound` for no tracklist."""
    if session.get(Tracklist, tracklist_id) is None:
        raise NotFound(f"no tracklist {tracklist_id}")
    return list(
        session.scalars(
            select(TracklistConflict)
            .where(TracklistConflict.tracklist_id == tracklist_id)
            .order_by(TracklistConflict.created_at.desc(), TracklistConflict.id)
        )
    )


def open_conflicts(session: Session, kind: str | None, limit: int) -> list[TracklistConflict]:
    """Every tracklist's open conflict (of ``kind`` if given), oldest first: the review list."""
    query = select(TracklistConflict).where(TracklistConflict.status == "open")
    if kind is not None:
        query = query.where(TracklistConflict.kind == kind)
    order = (TracklistConflict.created_at, TracklistConflict.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def resolve(
    session: Session,
    tracklist_id: uuid.UUID,
    conflict_id: uuid.UUID,
    action: Action,
    *,
    editor: str,
    reason: str | None = None,
    draft_id: uuid.UUID | None = None,
) -> TracklistConflict:
    """Close an open conflict as ``editor``; :class:`Conflict` if it is closed already."""
    tracklist = locked_tracklist(session, tracklist_id)
    conflict = session.get(TracklistConflict, conflict_id)
    if conflict is None or conflict.tracklist_id != tracklist_id:
        raise NotFound(f"tracklist {tracklist_id} has no conflict {conflict_id}")
    if conflict.status != "open":
        raise Conflict(f"conflict {conflict_id} is already resolved ({conflict.status})")
    if action == "accept":
        crawled = version_of(session, tracklist_id, conflict.crawl_version)
        conflict.resolution_version = publish(
            session,
            tracklist,
            crawled.content,
            origin="crawl",
            author=editor,
            reason=reason or f"accepted crawled version {crawled.version}",
            base_version=crawled.version,
        ).version
    elif action == "merge":
        if draft_id is None:
            raise Invalid([Problem("draft_id", "merging needs the draft to publish")])
        conflict.resolution_version = publish_draft(
            session, tracklist_id, draft_id, editor=editor, reason=reason
        ).version
    if action != "keep" and tracklist.status == "held":
        tracklist.status = "active"  # a held first crawl is served from now on
    conflict.status = _STATUS_OF[action]
    conflict.resolved_by = editor
    conflict.resolved_at = utcnow()
    session.flush()
    return conflict


def _open_conflict(session: Session, tracklist_id: uuid.UUID) -> TracklistConflict | None:
    return session.scalars(
        select(TracklistConflict).where(
            TracklistConflict.tracklist_id == tracklist_id, TracklistConflict.status == "open"
        )
    ).one_or_none()

"""Drafts: an editor's working copy of a tracklist, validated, then published as a version.

A draft starts from the current version (``base_version``), its document copied from that
version or from another one (``from_version``: e.g. a held-back crawl, to merge it by hand).
Saving checks the document against :func:`service.editing.rules.problems` (422 on the API);
publishing checks again and refuses a *stale* draft, one whose base is no longer the current
version, because publishing it would silently drop whatever was published meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.editing.errors import Conflict, Invalid, NotFound
from service.editing.rules import draft_document, edited_document, problems
from service.editing.versions import locked_tracklist, publish, version_of
from store.models import Tracklist, TracklistDraft, TracklistVersion


def create_draft(
    session: Session,
    tracklist_id: uuid.UUID,
    *,
    author: str,
    reason: str | None = None,
    from_version: int | None = None,
) -> TracklistDraft:
    """A new open draft on the current version, with the document of ``from_version``."""
    tracklist = session.get(Tracklist, tracklist_id)
    if tracklist is None:
        raise NotFound(f"no tracklist {tracklist_id}")
    source = version_of(session, tracklist_id, from_version or tracklist.version)
    draft = TracklistDraft(
        tracklist_id=tracklist_id,
        base_version=tracklist.version,
        author=author,
        reason=reason,
        content=draft_document(source.content),
        status="open",
    )
    session.add(draft)
    session.flush()
    return draft


def draft_of(session: Session, tracklist_id: uuid.UUID, draft_id: uuid.UUID) -> TracklistDraft:
    """The tracklist's draft ``draft_id``; :class:`NotFound` otherwise."""
    draft = session.get(TracklistDraft, draft_id)
    if draft is None or draft.tracklist_id != tracklist_id:
        raise NotFound(f"tracklist {tracklist_id} has no draft {draft_id}")
    return draft


def drafts_of(
    session: Session, tracklist_id: uuid.UUID, status: str | None = None
) -> list[TracklistDraft]:
    """The tracklist's drafts (of one ``status`` if given), newest first."""
    if session.get(Tracklist, tracklist_id) is None:
        raise NotFound(f"no tracklist {tracklist_id}")
    query = select(TracklistDraft).where(TracklistDraft.tracklist_id == tracklist_id)
    if status is not None:
        query = query.where(TracklistDraft.status == status)
    return list(session.scalars(query.order_by(TracklistDraft.created_at.desc())))


def update_draft(
    session: Session,
    tracklist_id: uuid.UUID,
    draft_id: uuid.UUID,
    edit: Mapping[str, Any],
    *,
    reason: str | None = None,
) -> TracklistDraft:
    """Replace the draft's title, date, genres and rows; :class:`Invalid` lists what is wrong."""
    draft = _open_draft(session, tracklist_id, draft_id)
    content = edited_document(draft.content, edit)
    found = problems(content)
    if found:
        raise Invalid(found)
    draft.content = content
    if reason is not None:
        draft.reason = reason
    session.flush()
    return draft


def discard_draft(session: Session, tracklist_id: uuid.UUID, draft_id: uuid.UUID) -> TracklistDraft:
    """Close an open draft without publishing it."""
    draft = _open_draft(session, tracklist_id, draft_id)
    draft.status = "discarded"
    session.flush()
    return draft


def publish_draft(
    session: Session,
    tracklist_id: uuid.UUID,
    draft_id: uuid.UUID,
    *,
    editor: str,
    reason: str | None = None,
) -> TracklistVersion:
    """Publish the draft as a new ``edit`` version by ``editor``.

    Refused with :class:`Conflict` when the draft is not open, is stale (its base is no
    longer current) or changes nothing; with :class:`Invalid` when it breaks the rules.
    """
    tracklist = locked_tracklist(session, tracklist_id)
    draft = _open_draft(session, tracklist_id, draft_id)
    if draft.base_version != tracklist.version:
        raise Conflict(
            f"draft {draft_id} is based on version {draft.base_version} but the current "
            f"version is {tracklist.version}; start a new draft from it"
        )
    found = problems(draft.content)
    if found:
        raise Invalid(found)
    current = version_of(session, tracklist_id, tracklist.version)
    if draft_document(current.content) == draft.content:
        raise Conflict(f"draft {draft_id} changes nothing in version {tracklist.version}")
    version = publish(
        session,
        tracklist,
        draft.content,
        origin="edit",
        author=editor,
        reason=reason or draft.reason,
        base_version=draft.base_version,
    )
    draft.status = "published"
    draft.published_version = version.version
    session.flush()
    return version


def _open_draft(session: Session, tracklist_id: uuid.UUID, draft_id: uuid.UUID) -> TracklistDraft:
    draft = draft_of(session, tracklist_id, draft_id)
    if draft.status != "open":
        raise Conflict(f"draft {draft_id} is {draft.status}, no longer open")
    return draft

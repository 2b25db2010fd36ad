"""Versions of a tracklist: publish a document as the new current version, roll back, look up.

Every published state is a row of ``tracklist_versions`` (origin ``crawl``, ``edit`` or
``rollback``, with author, time and reason); rows are never changed afterwards, so history is
never rewritten: a rollback publishes the old document again as a new version. Publishing
rewrites the tracklist's metadata and ``tracklist_entries`` (through
:func:`service.entry_rows.replace_entries`) and writes ``tracklist.updated`` and
``tracklist.cataloged`` to the outbox, all in the caller's transaction.

DJs and sources are not part of an edit: their links come from the page and are refreshed by
every crawl that changes it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from domain.identity import normalize
from service.editing.errors import Conflict, NotFound
from service.entry_rows import EntryRow, replace_entries
from store.models import Tracklist, TracklistVersion
from store.outbox import TRACKLIST_CATALOGED, TRACKLIST_UPDATED, add_event

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a version's content (key order and spacing fixed)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def locked_tracklist(session: Session, tracklist_id: uuid.UUID) -> Tracklist:
    """The tracklist, locked for this transaction on PostgreSQL (one writer at a time)."""
    found = _locked(session, Tracklist.id == tracklist_id)
    if found is None:
        raise NotFound(f"no tracklist {tracklist_id}")
    return found


def locked_by_site_id(session: Session, site_id: str) -> Tracklist | None:
    """The tracklist stored under the site's id, locked as :func:`locked_tracklist` does."""
    return _locked(session, Tracklist.site_id == site_id)


def _locked(session: Session, where: ColumnElement[bool]) -> Tracklist | None:
    query = select(Tracklist).where(where)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def version_of(session: Session, tracklist_id: uuid.UUID, number: int) -> TracklistVersion:
    """Version ``number`` of the tracklist; :class:`NotFound` if it has none."""
    found = session.scalars(
        select(TracklistVersion).where(
            TracklistVersion.tracklist_id == tracklist_id, TracklistVersion.version == number
        )
    ).one_or_none()
    if found is None:
        raise NotFound(f"tracklist {tracklist_id} has no version {number}")
    return found


def versions_of(session: Session, tracklist_id: uuid.UUID) -> list[TracklistVersion]:
    """Every version of the tracklist, newest first; :class:`NotFound` for no tracklist."""
    if session.get(Tracklist, tracklist_id) is None:
        raise NotFound(f"no tracklist {tracklist_id}")
    return list(
        session.scalars(
            select(TracklistVersion)
            .where(TracklistVersion.tracklist_id == tracklist_id)
            .order_by(TracklistVersion.version.desc())
        )
    )


def next_number(session: Session, tracklist_id: uuid.UUID) -> int:
    """The number the tracklist's next version gets (held-back crawls count too)."""
    highest = session.scalar(
        select(func.max(TracklistVersion.version)).where(
            TracklistVersion.tracklist_id == tracklist_id
        )
    )
    return (highest or 0) + 1


def publish(
    session: Session,
    tracklist: Tracklist,
    content: dict[str, Any],
    *,
    origin: str,
    author: str | None,
    reason: str | None,
    base_version: int | None,
) -> TracklistVersion:
    """Add ``content`` as the tracklist's new current version and make it what is served.

    ``tracklist`` should come from :func:`locked_tracklist` so two publishers cannot take
    the same version number.
    """
    started = time.perf_counter()
    version = TracklistVersion(
        tracklist_id=tracklist.id,
        version=next_number(session, tracklist.id),
        origin=origin,
        published=True,
        base_version=base_version,
        content=content,
        content_hash=content_hash(content),
        author=author,
        reason=reason,
    )
    session.add(version)
    tracklist.version = version.version
    tracklist.title = str(content["title"])
    tracklist.set_date = date.fromisoformat(content["date"]) if content.get("date") else None
    tracklist.genres = list(content.get("genres") or ())
    tracklist.track_count = len(content["entries"])
    replace_entries(session, tracklist.id, [EntryRow.of_content(e) for e in content["entries"]])
    session.flush()
    session.expire(tracklist, ["entries"])  # replaced with Core statements above
    payload = {
        "tracklist_id": str(tracklist.id),
        "url": tracklist.url,
        "track_count": tracklist.track_count,
        "processing_time_ms": round((time.perf_counter() - started) * 1000),
        "version": version.version,
        "origin": origin,
    }
    add_event(session, TRACKLIST_UPDATED, payload)
    add_event(session, TRACKLIST_CATALOGED, catalog_payload(tracklist, content))
    return version


def rollback(
    session: Session, tracklist_id: uuid.UUID, number: int, *, author: str, reason: str | None
) -> TracklistVersion:
    """Publish version ``number``'s document again as a new version (origin ``rollback``).

    Refused (:class:`Conflict`) for a crawl that was never published (accept it through its
    conflict instead) and when the current version already has that content.
    """
    tracklist = locked_tracklist(session, tracklist_id)
    old = version_of(session, tracklist_id, number)
    if not old.published:
        raise Conflict(
            f"version {number} is a crawl that was never published; resolve its conflict instead"
        )
    current = version_of(session, tracklist_id, tracklist.version)
    if current.content_hash == old.content_hash:
        raise Conflict(f"the current version {tracklist.version} already has this content")
    return publish(
        session,
        tracklist,
        old.content,
        origin="rollback",
        author=author,
        reason=reason or f"rollback to version {number}",
        base_version=number,
    )


def catalog_payload(tracklist: Tracklist, content: dict[str, Any]) -> dict[str, Any]:
    """``tracklist.cataloged`` for the cataloging service: metadata, and genres as tags."""
    genres = [str(genre) for genre in content.get("genres") or ()]
    return {
        "tracklist_id": str(tracklist.id),
        "metadata": {
            "title": tracklist.title,
            "url": tracklist.url,
            "date": tracklist.set_date.isoformat() if tracklist.set_date else None,
            "djs": list(dict.fromkeys(content.get("djs") or ())),
            "sources": list(dict.fromkeys(content.get("sources") or ())),
            "genres": genres,
            "track_count": tracklist.track_count,
            "version": tracklist.version,
        },
        "tags": list(dict.fromkeys(slugify(genre) for genre in genres)),
    }


def slugify(name: str) -> str:
    """``Tech House`` → ``tech-house`` (normalized, so accents and case do not matter)."""
    return _SLUG_JUNK.sub("-", normalize(name)).strip("-") or "unknown"

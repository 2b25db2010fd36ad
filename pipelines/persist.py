"""Store one crawled tracklist: every table it touches, and its events, in ONE transaction.

Idempotent by construction: the tracklist is keyed on the site's id (and canonical URL), DJs
on their slug, sources on the site's source id, catalogue tracks on their normalized key.
Storing the same page twice changes nothing but ``scraped_at``; a page whose content changed
gets a new version and a ``tracklist.updated`` event. A new or changed tracklist also gets a
``tracklist.cataloged`` event (metadata, genres as tags) for the cataloging service.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler.items import TracklistItem
from crawler.pages import NamedLink, TrackEntry, TracklistPage, to_document
from crawler.pages.identity import artist_key, normalize, track_key
from pipelines.outbox import TRACKLIST_CATALOGED, TRACKLIST_PROCESSED, TRACKLIST_UPDATED, add_event
from store.models import (
    Base,
    Dj,
    Source,
    Track,
    Tracklist,
    TracklistDj,
    TracklistEntry,
    TracklistSource,
    TracklistVersion,
    utcnow,
)

Outcome = Literal["created", "updated", "unchanged"]
_DJ_SLUG = re.compile(r"/(?:dj|artist)/([^/]+)/")
_SOURCE_ID = re.compile(r"/source/([^/]+)/([^/]+)/")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing a page did."""

    tracklist_id: uuid.UUID
    outcome: Outcome
    version: int
    track_count: int


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a version's content (key order and spacing fixed)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_content(item: TracklistItem) -> dict[str, Any]:
    """The document a version stores: the parsers' document, with cues in milliseconds."""
    document = to_document(item.page)
    document.pop("notes", None)
    for entry, source in zip(document["entries"], item.page.entries, strict=True):
        entry["cue_ms"] = source.cue_ms
        entry["track_id"] = source.track_id
    return document


def store_tracklist(session: Session, item: TracklistItem) -> StoreResult:
    """Upsert ``item`` and write its events; the caller's transaction commits all or none."""
    started = time.perf_counter()
    page = item.page
    content = version_content(item)
    digest = content_hash(content)
    query = select(Tracklist).where(Tracklist.site_id == page.tracklist_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # one writer per tracklist at a time
    tracklist = session.scalars(query).one_or_none()
    now = utcnow()

    if tracklist is not None:
        current = session.scalars(
            select(TracklistVersion.content_hash).where(
                TracklistVersion.tracklist_id == tracklist.id,
                TracklistVersion.version == tracklist.version,
            )
        ).one_or_none()
        tracklist.scraped_at = now
        tracklist.source_html_hash = item.html_sha256
        tracklist.status = "active"
        if current == digest:
            return StoreResult(tracklist.id, "unchanged", tracklist.version, tracklist.track_count)
        outcome: Outcome = "updated"
        tracklist.version += 1
    else:
        outcome = "created"
        tracklist = Tracklist(site_id=page.tracklist_id, version=1, scraped_at=now)
        session.add(tracklist)

    tracklist.url = page.url or item.fetched_url
    tracklist.title = page.title
    tracklist.set_date = date.fromisoformat(page.date) if page.date else None
    tracklist.genres = list(page.genres)
    tracklist.track_count = len(page.entries)
    tracklist.source_html_hash = item.html_sha256
    session.flush()

    _link_djs(session, tracklist.id, page.djs)
    _link_sources(session, tracklist.id, page.sources)
    _replace_entries(session, tracklist.id, page.entries)
    session.add(
        TracklistVersion(
            tracklist_id=tracklist.id,
            version=tracklist.version,
            origin="crawl",
            content=content,
            content_hash=digest,
            reason="first crawl" if outcome == "created" else "page changed on re-crawl",
        )
    )
    elapsed_ms = item.download_ms + (time.perf_counter() - started) * 1000
    payload = {
        "tracklist_id": str(tracklist.id),
        "url": tracklist.url,
        "track_count": tracklist.track_count,
        "processing_time_ms": round(elapsed_ms),
    }
    add_event(session, TRACKLIST_PROCESSED, payload, correlation_id=item.correlation_id)
    if outcome == "updated":
        add_event(
            session,
            TRACKLIST_UPDATED,
            {**payload, "version": tracklist.version},
            correlation_id=item.correlation_id,
        )
    add_event(
        session,
        TRACKLIST_CATALOGED,
        _catalog_payload(tracklist, page),
        correlation_id=item.correlation_id,
    )
    return StoreResult(tracklist.id, outcome, tracklist.version, tracklist.track_count)


def _catalog_payload(tracklist: Tracklist, page: TracklistPage) -> dict[str, Any]:
    """``tracklist.cataloged`` for the cataloging service: metadata, and genres as tags."""
    return {
        "tracklist_id": str(tracklist.id),
        "metadata": {
            "title": tracklist.title,
            "url": tracklist.url,
            "date": tracklist.set_date.isoformat() if tracklist.set_date else None,
            "djs": list(dict.fromkeys(dj.name for dj in page.djs)),
            "sources": list(dict.fromkeys(source.name for source in page.sources)),
            "genres": list(page.genres),
            "track_count": tracklist.track_count,
            "version": tracklist.version,
        },
        "tags": list(dict.fromkeys(_slugify(genre) for genre in page.genres)),
    }


def _table(model: type[Any]) -> Table:
    """The model's Table: Core statements on it batch rows (the ORM bulk path does not)."""
    return Base.metadata.tables[model.__tablename__]


def _delete_rows_of(session: Session, model: type[Any], tracklist_id: uuid.UUID) -> None:
    """Delete a tracklist's rows in ``model``'s table (Core: no session synchronisation)."""
    table = _table(model)
    session.execute(delete(table).where(table.c.tracklist_id == tracklist_id))


def _upsert(session: Session, model: type[Any], rows: list[dict[str, Any]], key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING on either backend (both speak it)."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_table(model)).on_conflict_do_nothing(index_elements=[key])
    session.execute(statement, rows)


def _ids(session: Session, key: Any, id_column: Any, keys: list[str]) -> dict[str, int]:
    """Map natural keys to row ids, in chunks that stay under SQLite's parameter limit."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for natural, row_id in session.execute(select(key, id_column).where(key.in_(chunk))):
            found[natural] = row_id
    return found


def _slugify(name: str) -> str:
    return _SLUG_JUNK.sub("-", normalize(name)).strip("-") or "unknown"


def _relink(
    session: Session,
    tracklist_id: uuid.UUID,
    entity: tuple[type[Any], str],
    link: tuple[type[Any], str],
    rows: dict[str, dict[str, Any]],
) -> None:
    """Upsert ``rows`` (natural key -> row) and make them the tracklist's links, in order.

    ``entity`` is the model and its natural-key column; ``link`` the link model and its
    foreign-key column.
    """
    model, key = entity
    link_model, foreign_key = link
    _upsert(session, model, list(rows.values()), key)
    ids = _ids(session, getattr(model, key), model.id, list(rows))
    _delete_rows_of(session, link_model, tracklist_id)
    links = [
        {"tracklist_id": tracklist_id, foreign_key: ids[natural], "position": position}
        for position, natural in enumerate(rows)
    ]
    if links:
        session.execute(insert(_table(link_model)), links)


def _link_djs(session: Session, tracklist_id: uuid.UUID, djs: tuple[NamedLink, ...]) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for dj in djs:
        match = _DJ_SLUG.search(dj.url or "")
        slug = match.group(1) if match else _slugify(dj.name)
        rows.setdefault(slug, {"slug": slug, "name": dj.name, "url": dj.url})
    _relink(session, tracklist_id, (Dj, "slug"), (TracklistDj, "dj_id"), rows)


def _link_sources(
    session: Session, tracklist_id: uuid.UUID, sources: tuple[NamedLink, ...]
) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for source in sources:
        match = _SOURCE_ID.search(source.url or "")
        site_id, slug = (match.group(1), match.group(2)) if match else (None, None)
        slug = slug or _slugify(source.name)
        site_id = site_id or f"name:{slug}"
        rows.setdefault(
            site_id, {"site_id": site_id, "slug": slug, "name": source.name, "url": source.url}
        )
    _relink(session, tracklist_id, (Source, "site_id"), (TracklistSource, "source_id"), rows)


def _catalogue_row(entry: TrackEntry) -> dict[str, Any]:
    return {
        "track_key": track_key(entry.artist, entry.title, entry.version),
        "artist": entry.artist,
        "title": entry.title,
        "version": entry.version,
        "label": entry.label,
        "artist_normalized": artist_key(entry.artist),
        "title_normalized": normalize(entry.title),
        "version_normalized": normalize(entry.version) if entry.version else None,
        "label_normalized": normalize(entry.label) if entry.label else None,
        "site_track_id": entry.track_id,
        "url": entry.track_url,
    }


def _replace_entries(
    session: Session, tracklist_id: uuid.UUID, entries: tuple[TrackEntry, ...]
) -> None:
    # Unknown ("ID") tracks are rows of the set, not catalogue tracks: nothing to link them to.
    catalogue_rows = [None if e.is_id else _catalogue_row(e) for e in entries]
    catalogue = {row["track_key"]: row for row in catalogue_rows if row is not None}
    _upsert(session, Track, list(catalogue.values()), "track_key")
    track_ids = _ids(session, Track.track_key, Track.id, list(catalogue))
    _delete_rows_of(session, TracklistEntry, tracklist_id)
    rows = [
        {
            "tracklist_id": tracklist_id,
            "row": entry.row,
            "position": entry.position,
            "cue_ms": entry.cue_ms,
            "played_with_previous": entry.played_with_previous,
            "is_id": entry.is_id,
            "artist": entry.artist,
            "title": entry.title,
            "version": entry.version,
            "label": entry.label,
            "mashup_parts": [{"display": part.display} for part in entry.mashup_parts],
            "track_id": None if row is None else track_ids[row["track_key"]],
        }
        for entry, row in zip(entries, catalogue_rows, strict=True)
    ]
    if rows:
        session.execute(insert(_table(TracklistEntry)), rows)

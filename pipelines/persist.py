"""Store one crawled tracklist: every table it touches, and its events, in ONE transaction.

Idempotent by construction: the tracklist is keyed on the site's id (and canonical URL), DJs
on their slug, sources on the site's source id, catalogue tracks on their normalized key.
The id is the one the page declares: a page the site moved (its old address redirects) is
stored under its new id, and the old id is kept in ``tracklist_aliases``.
Storing the same page twice changes nothing but ``scraped_at``; a page whose content changed
gets a new version and a ``tracklist.updated`` event. A new or changed tracklist also gets a
``tracklist.cataloged`` event (metadata, genres as tags) for the cataloging service.

A re-crawl never overwrites a published human edit: while the current version is an edit or a
rollback, a changed page is only kept as an unpublished version and a conflict is opened for
an editor (:func:`service.editing.conflicts.hold_crawl`; outcome ``held``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler.items import TracklistItem
from crawler.pages import NamedLink, TrackEntry, TracklistPage, to_document
from domain.integrity import short_page_reason
from domain.site import dj_slug, source_ids, tracklist_site_id
from pipelines.refusals import change_status
from service.editing.conflicts import hold_crawl, hold_short_page, supersede_short_page
from service.editing.versions import (
    catalog_payload,
    content_hash,
    locked_by_site_id,
    next_number,
    slugify,
)
from service.entry_rows import (
    EntryRow,
    delete_rows_of,
    ids_by_key,
    replace_entries,
    table_of,
    upsert,
)
from store.models import (
    HUMAN_ORIGINS,
    Dj,
    Source,
    Tracklist,
    TracklistAlias,
    TracklistDj,
    TracklistSource,
    TracklistVersion,
    utcnow,
)
from store.outbox import TRACKLIST_CATALOGED, TRACKLIST_PROCESSED, TRACKLIST_UPDATED, add_event

Outcome = Literal["created", "updated", "unchanged", "held"]


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing a page did."""

    tracklist_id: uuid.UUID
    outcome: Outcome
    version: int
    track_count: int
    short_page: str | None = None  # why the page was held as cut short


def version_content(item: TracklistItem) -> dict[str, Any]:
    """The document a version stores: the parsers' document, with cues in milliseconds."""
    document = to_document(item.page)
    document.pop("notes", None)
    for entry, source in zip(document["entries"], item.page.entries, strict=True):
        entry["cue_ms"] = source.cue_ms
        entry["track_id"] = source.track_id
    return document


def store_tracklist(session: Session, item: TracklistItem) -> StoreResult:
    """Upsert ``item`` and write its events; the caller's transaction commits all or none.

    The tracklist is stored under the id its page declares; when the page was asked for under
    another id (the site moved it and redirected), that id becomes an alias of it.
    """
    result = _store(session, item)
    _keep_alias(session, result.tracklist_id, item)
    return result


def _store(session: Session, item: TracklistItem) -> StoreResult:
    started = time.perf_counter()
    page = item.page
    content = version_content(item)
    digest = content_hash(content)
    tracklist = locked_by_site_id(session, page.tracklist_id)  # one writer at a time
    now = utcnow()
    published = tracklist is not None and tracklist.version > 0
    short = short_page_reason(
        declared_rows=page.declared_row_count,
        declared_tracks=page.declared_track_count,
        parsed_rows=page.parsed_row_count,
        entries=len(page.entries),
        replaced_entries=tracklist.track_count if tracklist is not None and published else None,
    )

    if tracklist is not None:
        current = session.scalars(
            select(TracklistVersion).where(
                TracklistVersion.tracklist_id == tracklist.id,
                TracklistVersion.version == tracklist.version,
            )
        ).one_or_none()
        tracklist.scraped_at = now
        tracklist.source_html_hash = item.html_sha256
        if published:  # the site serves it (again): whatever it answered before
            change_status(session, tracklist, "active", "page served", item.correlation_id)
        if current is not None and current.origin in HUMAN_ORIGINS:
            held = hold_crawl(session, tracklist, current, content)
            if held:  # DJs and sources are not edited by people: keep them as the page says
                _link_heading(session, tracklist.id, page)
            outcome: Outcome = "held" if held else "unchanged"
            return StoreResult(tracklist.id, outcome, tracklist.version, tracklist.track_count)
        if short:
            hold_short_page(session, tracklist, content, short)
            return StoreResult(
                tracklist.id, "held", tracklist.version, tracklist.track_count, short
            )
        if current is not None and current.content_hash == digest:
            supersede_short_page(session, tracklist.id)  # the page is whole again
            return StoreResult(tracklist.id, "unchanged", tracklist.version, tracklist.track_count)
        outcome = "updated" if published else "created"
        tracklist.version = next_number(session, tracklist.id)
        tracklist.status = "active"  # a held first crawl, published at last
        supersede_short_page(session, tracklist.id)
    elif short:
        return _hold_first_crawl(session, item, content, short)
    else:
        outcome = "created"
        tracklist = Tracklist(site_id=page.tracklist_id, version=1, scraped_at=now)
        session.add(tracklist)

    _set_heading(tracklist, item)
    session.flush()

    _link_heading(session, tracklist.id, page)
    replace_entries(session, tracklist.id, [_entry_row(entry) for entry in page.entries])
    # Core, not session.add: the ORM's unit of work was a tenth of the crawler's CPU per page.
    session.execute(
        insert(table_of(TracklistVersion)),
        {
            "tracklist_id": tracklist.id,
            "version": tracklist.version,
            "origin": "crawl",
            "content": content,
            "content_hash": digest,
            "reason": "first crawl" if outcome == "created" else "page changed on re-crawl",
        },
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
            {**payload, "version": tracklist.version, "origin": "crawl"},
            correlation_id=item.correlation_id,
        )
    add_event(
        session,
        TRACKLIST_CATALOGED,
        catalog_payload(tracklist, content),
        correlation_id=item.correlation_id,
    )
    return StoreResult(tracklist.id, outcome, tracklist.version, tracklist.track_count)


def _set_heading(tracklist: Tracklist, item: TracklistItem) -> None:
    page = item.page
    tracklist.url = page.url or item.fetched_url
    tracklist.title = page.title
    tracklist.set_date = date.fromisoformat(page.date) if page.date else None
    tracklist.genres = list(page.genres)
    tracklist.track_count = len(page.entries)
    tracklist.source_html_hash = item.html_sha256


def _hold_first_crawl(
    session: Session, item: TracklistItem, content: dict[str, Any], reason: str
) -> StoreResult:
    """A first crawl that looks cut short: a ``held`` tracklist, nothing served, no event.

    The row and its DJ and source links exist so an editor can find it and accept the held
    version (which publishes it); it has no published version (``version`` 0) and no rows.
    """
    tracklist = Tracklist(site_id=item.page.tracklist_id, version=0, status="held")
    _set_heading(tracklist, item)
    tracklist.track_count = 0
    session.add(tracklist)
    session.flush()
    _link_heading(session, tracklist.id, item.page)
    hold_short_page(session, tracklist, content, reason)
    return StoreResult(tracklist.id, "held", 0, 0, reason)


def _keep_alias(session: Session, tracklist_id: uuid.UUID, item: TracklistItem) -> None:
    """Remember the requested site id when it is not the page's (the newest crawl wins)."""
    asked = tracklist_site_id(item.requested_url)
    if asked is None or asked.lower() == item.page.tracklist_id.lower():
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table_of(TracklistAlias)).values(
        site_id=asked.lower(), tracklist_id=tracklist_id
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["site_id"],
            set_={"tracklist_id": statement.excluded.tracklist_id, "updated_at": utcnow()},
        )
    )


def _link_heading(session: Session, tracklist_id: uuid.UUID, page: TracklistPage) -> None:
    _link_djs(session, tracklist_id, page.djs)
    _link_sources(session, tracklist_id, page.sources)


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
    upsert(session, model, list(rows.values()), key)
    ids = ids_by_key(session, getattr(model, key), model.id, list(rows))
    delete_rows_of(session, link_model, tracklist_id)
    links = [
        {"tracklist_id": tracklist_id, foreign_key: ids[natural], "position": position}
        for position, natural in enumerate(rows)
    ]
    if links:
        session.execute(insert(table_of(link_model)), links)


def _link_djs(session: Session, tracklist_id: uuid.UUID, djs: tuple[NamedLink, ...]) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for dj in djs:
        slug = dj_slug(dj.url) or slugify(dj.name)
        rows.setdefault(slug, {"slug": slug, "name": dj.name, "url": dj.url})
    _relink(session, tracklist_id, (Dj, "slug"), (TracklistDj, "dj_id"), rows)


def _link_sources(
    session: Session, tracklist_id: uuid.UUID, sources: tuple[NamedLink, ...]
) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for source in sources:
        site_id, slug = source_ids(source.url) or (None, None)
        slug = slug or slugify(source.name)
        site_id = site_id or f"name:{slug}"
        rows.setdefault(
            site_id, {"site_id": site_id, "slug": slug, "name": source.name, "url": source.url}
        )
    _relink(session, tracklist_id, (Source, "site_id"), (TracklistSource, "source_id"), rows)


def _entry_row(entry: TrackEntry) -> EntryRow:
    """The row to store for a row of the parsed page."""
    return EntryRow(
        row=entry.row,
        position=entry.position,
        cue_ms=entry.cue_ms,
        played_with_previous=entry.played_with_previous,
        is_id=entry.is_id,
        artist=entry.artist,
        title=entry.title,
        version=entry.version,
        label=entry.label,
        mashup_parts=tuple(part.display for part in entry.mashup_parts),
        site_track_id=entry.track_id,
        track_url=entry.track_url,
    )

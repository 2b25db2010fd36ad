"""Storing crawled tracklists: real pages through the real parsers into both backends."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crawler.items import TracklistItem
from crawler.pages import TracklistPage, parse_page
from pipelines.persist import store_tracklist
from store.db import make_session_factory, run_transaction
from store.models import (
    Dj,
    OutboxEvent,
    Source,
    Track,
    Tracklist,
    TracklistAlias,
    TracklistEntry,
    TracklistVersion,
)


def _item(path: Path) -> TracklistItem:
    body = path.read_bytes()
    page = parse_page(body)
    assert isinstance(page, TracklistPage)
    return TracklistItem(
        page=page,
        fetched_url=page.url or "https://www.1001tracklists.com/",
        html_sha256=hashlib.sha256(body).hexdigest(),
        fetched_at=datetime.now(UTC),
        download_ms=12.5,
        correlation_id="corr-1",
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def items(real_pages: Path) -> list[TracklistItem]:
    return [_item(path) for path in sorted(real_pages.glob("tracklist_*.html"))]


def test_every_real_page_is_stored_completely(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    for item in items:
        result = run_transaction(factory, lambda s, item=item: store_tracklist(s, item))
        assert result.outcome == "created"
        assert result.version == 1
    with Session(migrated_engine) as session:
        assert _count(session, Tracklist) == len(items)
        for item in items:
            page = item.page
            stored = session.scalars(
                select(Tracklist).where(Tracklist.site_id == page.tracklist_id)
            ).one()
            assert stored.url == page.url
            assert stored.title == page.title
            assert (stored.set_date.isoformat() if stored.set_date else None) == page.date
            assert stored.genres == list(page.genres)
            assert [dj.name for dj in stored.djs] == list(dict.fromkeys(d.name for d in page.djs))
            assert [s.name for s in stored.sources] == list(
                dict.fromkeys(s.name for s in page.sources)
            )
            assert [
                (
                    e.row,
                    e.position,
                    e.cue_ms,
                    e.played_with_previous,
                    e.is_id,
                    e.artist,
                    e.title,
                    e.version,
                    e.label,
                )
                for e in stored.entries
            ] == [
                (
                    e.row,
                    e.position,
                    e.cue_ms,
                    e.played_with_previous,
                    e.is_id,
                    e.artist,
                    e.title,
                    e.version,
                    e.label,
                )
                for e in page.entries
            ]
            for stored_entry, entry in zip(stored.entries, page.entries, strict=True):
                assert (stored_entry.track_id is None) == entry.is_id
                assert stored_entry.mashup_parts == [
                    {"display": p.display} for p in entry.mashup_parts
                ]
        every = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert [e.event_type for e in every] == [
            "tracklist.processed",
            "tracklist.cataloged",
        ] * len(items)
        events = [e for e in every if e.event_type == "tracklist.processed"]
        assert {e.payload["track_count"] for e in events} == {len(i.page.entries) for i in items}
        assert all(e.correlation_id == "corr-1" for e in events)
        assert all(e.payload["processing_time_ms"] >= 12 for e in events)


def test_same_page_twice_changes_nothing(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    item = items[0]
    run_transaction(factory, lambda s: store_tracklist(s, item))
    with Session(migrated_engine) as session:
        before = {
            m.__name__: _count(session, m)
            for m in (Track, Dj, Source, TracklistEntry, TracklistVersion, OutboxEvent)
        }
    again = run_transaction(factory, lambda s: store_tracklist(s, item))
    assert again.outcome == "unchanged"
    assert again.version == 1
    with Session(migrated_engine) as session:
        after = {
            m.__name__: _count(session, m)
            for m in (Track, Dj, Source, TracklistEntry, TracklistVersion, OutboxEvent)
        }
    assert after == before


def _aliases(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {a.site_id: str(a.tracklist_id) for a in session.scalars(select(TracklistAlias))}


def test_a_moved_tracklist_is_stored_under_its_page_id_and_the_asked_id_kept(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    old = "https://www.1001tracklists.com/tracklist/OLD0001/old-slug.html"
    moved = dataclasses.replace(items[0], requested_url=old)
    result = run_transaction(factory, lambda s: store_tracklist(s, moved))
    with Session(migrated_engine) as session:
        stored = session.get(Tracklist, result.tracklist_id)
        assert stored is not None
        assert (stored.site_id, stored.url) == (moved.page.tracklist_id, moved.page.url)
    assert _aliases(migrated_engine) == {"old0001": str(result.tracklist_id)}

    # The same redirect again changes nothing; a page asked for under its own id adds nothing.
    again = run_transaction(factory, lambda s: store_tracklist(s, moved))
    assert again.outcome == "unchanged"
    direct = dataclasses.replace(items[1], requested_url=items[1].page.url)
    run_transaction(factory, lambda s: store_tracklist(s, direct))
    assert _aliases(migrated_engine) == {"old0001": str(result.tracklist_id)}

    # The old address leading elsewhere later: the newest crawl wins.
    elsewhere = dataclasses.replace(items[1], requested_url=old)
    other = run_transaction(factory, lambda s: store_tracklist(s, elsewhere))
    assert _aliases(migrated_engine) == {"old0001": str(other.tracklist_id)}


def test_changed_page_makes_a_new_version_and_an_update_event(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    item = items[0]
    first = run_transaction(factory, lambda s: store_tracklist(s, item))
    entries = list(item.page.entries)
    entries[0] = dataclasses.replace(entries[0], title="Corrected Title", is_id=False)
    changed = dataclasses.replace(item, page=dataclasses.replace(item.page, entries=tuple(entries)))
    second = run_transaction(factory, lambda s: store_tracklist(s, changed))
    assert (second.outcome, second.version, second.tracklist_id) == (
        "updated",
        2,
        first.tracklist_id,
    )
    with Session(migrated_engine) as session:
        stored = session.get(Tracklist, first.tracklist_id)
        assert stored is not None
        assert stored.entries[0].title == "Corrected Title"
        assert len(stored.entries) == len(entries)
        versions = session.scalars(
            select(TracklistVersion.version).where(TracklistVersion.tracklist_id == stored.id)
        ).all()
        assert sorted(versions) == [1, 2]
        kinds = session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.id)).all()
        assert kinds == [
            "tracklist.processed",
            "tracklist.cataloged",
            "tracklist.processed",
            "tracklist.updated",
            "tracklist.cataloged",
        ]


def test_catalogue_tracks_are_shared_between_sets(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    item = items[0]
    run_transaction(factory, lambda s: store_tracklist(s, item))
    twin_page = dataclasses.replace(
        item.page,
        tracklist_id="twin0001",
        url="https://www.1001tracklists.com/tracklist/twin0001/x.html",
    )
    twin = dataclasses.replace(item, page=twin_page)
    run_transaction(factory, lambda s: store_tracklist(s, twin))
    with Session(migrated_engine) as session:
        distinct_tracks = len(
            {e.track_id for e in session.scalars(select(TracklistEntry)) if e.track_id}
        )
        assert _count(session, Track) == distinct_tracks
        assert _count(session, TracklistEntry) == 2 * len(item.page.entries)
        assert _count(session, Dj) == len({d.name for d in item.page.djs})


def test_a_stored_tracklist_is_cataloged_with_its_genres_as_tags(
    migrated_engine: Engine, items: list[TracklistItem]
) -> None:
    factory = make_session_factory(migrated_engine)
    item = next(i for i in items if i.page.genres)
    result = run_transaction(factory, lambda s: store_tracklist(s, item))
    with Session(migrated_engine) as session:
        event = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "tracklist.cataloged")
        ).one()
    assert event.routing_key == "tracklist.cataloged"
    assert event.correlation_id == "corr-1"
    assert event.payload["tracklist_id"] == str(result.tracklist_id)
    metadata = event.payload["metadata"]
    assert metadata["title"] == item.page.title
    assert metadata["genres"] == list(item.page.genres)
    assert metadata["djs"] == list(dict.fromkeys(d.name for d in item.page.djs))
    assert event.payload["tags"]
    assert all(tag == tag.lower() and " " not in tag for tag in event.payload["tags"])

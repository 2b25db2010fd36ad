"""Pages cut short are held for an editor, never published; complete crawls supersede them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem
from crawler.pages import TracklistPage, parse_page
from pipelines.persist import StoreResult, store_tracklist
from pipelines.storage import store_and_finish
from service.editing import conflicts
from service.intake import stored_by_url
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory, run_transaction
from store.models import (
    CrawlRequest,
    OutboxEvent,
    Tracklist,
    TracklistConflict,
    TracklistEntry,
    TracklistVersion,
)

BICEP = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"  # 14 rows, data-count 14


def _item(body: bytes, correlation_id: str | None = None) -> TracklistItem:
    page = parse_page(body)
    assert isinstance(page, TracklistPage)
    return TracklistItem(
        page=page,
        fetched_url=page.url or "https://www.1001tracklists.com/",
        html_sha256=hashlib.sha256(body).hexdigest(),
        fetched_at=datetime.now(UTC),
        download_ms=1.0,
        correlation_id=correlation_id,
    )


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def bicep(real_pages: Path) -> bytes:
    return (real_pages / BICEP).read_bytes()


def _store(sessions: sessionmaker[Session], item: TracklistItem) -> StoreResult:
    return run_transaction(sessions, lambda session: store_tracklist(session, item))


def _events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def _cut(body: bytes) -> bytes:
    return body[:100_000]  # inside row 10 of 14, the rest of the page lost


def test_a_cut_short_recrawl_is_held_and_the_published_version_stays(
    sessions: sessionmaker[Session], bicep: bytes
) -> None:
    first = _store(sessions, _item(bicep))
    with sessions() as session:
        events = _events(session)
    held = _store(sessions, _item(_cut(bicep)))
    assert (held.outcome, held.version) == ("held", first.version)
    assert held.short_page is not None
    assert "declares 14 rows" in held.short_page
    with sessions() as session:
        tracklist = session.get(Tracklist, first.tracklist_id)
        assert tracklist is not None
        assert (tracklist.version, tracklist.track_count, tracklist.status) == (1, 14, "active")
        rows = session.scalar(
            select(func.count())
            .select_from(TracklistEntry)
            .where(TracklistEntry.tracklist_id == tracklist.id)
        )
        assert rows == 14
        assert _events(session) == events  # nothing published, nothing told
        version = session.scalars(
            select(TracklistVersion).where(TracklistVersion.version == 2)
        ).one()
        assert not version.published
        conflict = session.scalars(select(TracklistConflict)).one()
        assert (conflict.kind, conflict.status, conflict.edit_version) == ("short_page", "open", 1)
        assert conflict.crawl_version == 2
        assert conflict.reason == held.short_page


@pytest.mark.parametrize("changed", [False, True])
def test_a_later_complete_crawl_supersedes_the_held_page(
    sessions: sessionmaker[Session], bicep: bytes, changed: bool
) -> None:
    _store(sessions, _item(bicep))
    _store(sessions, _item(_cut(bicep)))
    whole = bicep.replace(b"C4NDY", b"C4NDY 2") if changed else bicep
    published = _store(sessions, _item(whole))
    expected = ("updated", 3) if changed else ("unchanged", 1)
    assert (published.outcome, published.version) == expected
    with sessions() as session:
        conflict = session.scalars(select(TracklistConflict)).one()
        assert (conflict.status, conflict.resolved_by) == ("superseded", "crawl")


def test_a_page_dropping_most_rows_of_its_version_is_held_whatever_it_declares(
    sessions: sessionmaker[Session], bicep: bytes
) -> None:
    first = _store(sessions, _item(bicep))
    # Five rows that say they are all there is: consistent, but most of the set is gone.
    root_cut = bicep.replace(b'data-count="14"', b'data-count="5"')
    short = _item(root_cut)
    trimmed = TracklistItem(
        page=_keep_rows(short.page, 5),
        fetched_url=short.fetched_url,
        html_sha256="x" * 64,
        fetched_at=short.fetched_at,
        download_ms=1.0,
    )
    held = _store(sessions, trimmed)
    assert held.outcome == "held"
    assert held.short_page == "the page would replace 14 rows with 5"
    with sessions() as session:
        tracklist = session.get(Tracklist, first.tracklist_id)
        assert tracklist is not None
        assert tracklist.track_count == 14


def _keep_rows(page: TracklistPage, rows: int) -> TracklistPage:
    from dataclasses import replace

    return replace(
        page,
        entries=page.entries[:rows],
        parsed_row_count=rows,
        declared_row_count=rows,
        declared_track_count=rows,
    )


def test_a_cut_short_first_crawl_is_held_unserved_until_an_editor_accepts_it(
    sessions: sessionmaker[Session], bicep: bytes, redis_url: str
) -> None:
    item = _item(_cut(bicep))
    held = _store(sessions, item)
    assert (held.outcome, held.version) == ("held", 0)
    with sessions() as session:
        tracklist = session.get(Tracklist, held.tracklist_id)
        assert tracklist is not None
        assert (tracklist.status, tracklist.version, tracklist.is_published) == ("held", 0, False)
        assert item.page.url is not None
        assert stored_by_url(session, item.page.url) is None  # nobody is answered with it
        assert _events(session) == 0
        conflict = session.scalars(select(TracklistConflict)).one()
        assert (conflict.kind, conflict.edit_version) == ("short_page", 0)
    with sessions() as session, session.begin():
        conflicts.resolve(session, held.tracklist_id, conflict.id, "accept", editor="ed")
    with sessions() as session:
        tracklist = session.get(Tracklist, held.tracklist_id)
        assert tracklist is not None
        assert (tracklist.status, tracklist.is_published) == ("active", True)
        assert tracklist.track_count == len(item.page.entries)
        assert stored_by_url(session, item.page.url) is not None
        assert _events(session) > 0  # published now: told


def test_real_pages_whose_counts_differ_by_one_are_published(
    sessions: sessionmaker[Session], real_pages: Path
) -> None:
    for name in (
        "tracklist_1pmwyfn1_max-styler_edc-las-vegas_2025-05-16.html",  # 30 rows, numTracks 31
        "tracklist_l3uw499_matroda_club-space-miami_2023-08-05.html",  # 28 rows, numTracks 29
    ):
        item = _item((real_pages / name).read_bytes())
        declared = (item.page.declared_row_count, item.page.declared_track_count)
        assert declared[1] == item.page.parsed_row_count + 1, name
        assert _store(sessions, item).outcome == "created", name


def test_the_crawl_request_of_a_held_page_says_so(
    sessions: sessionmaker[Session], bicep: bytes, redis_url: str
) -> None:
    import uuid

    import redis

    queue = CrawlQueue(redis.Redis.from_url(redis_url), sessions, f"test:{uuid.uuid4().hex}")
    request = queue.submit("https://www.1001tracklists.com/tracklist/2hjnqr0t/x.html")
    queue.redis.delete(queue.key)
    item = _item(_cut(bicep), correlation_id=str(request.correlation_id))
    run_transaction(sessions, lambda session: store_and_finish(session, item))
    with sessions() as session:
        found = session.scalars(select(CrawlRequest)).one()
        assert found.status == "held"
        assert (found.error or "").startswith("held for review: the page declares 14 rows")

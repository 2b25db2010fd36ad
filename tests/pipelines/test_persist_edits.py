"""The crawl path against human edits, on both backends: a re-crawl never overwrites an edit.

Edits are published with :mod:`service.editing.drafts` as the API does; pages are stored with
:func:`pipelines.persist.store_tracklist` as the crawler does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem
from crawler.pages.types import NamedLink, TrackEntry, TracklistPage
from pipelines.persist import StoreResult, store_tracklist
from service.editing import conflicts, drafts
from service.editing.errors import Invalid
from store.db import make_session_factory, run_transaction
from store.models import (
    OutboxEvent,
    Tracklist,
    TracklistConflict,
    TracklistEntry,
    TracklistVersion,
)

SITE = "https://www.1001tracklists.com"


def _row(row: int, artist: str, title: str, cue_ms: int | None) -> TrackEntry:
    return TrackEntry(
        row=row,
        position=row,
        played_with_previous=False,
        cue_ms=cue_ms,
        display=f"{artist} - {title}",
        artist=artist,
        title=title,
        version=None,
        label=None,
        is_id="ID" in (artist, title),
    )


def _page(**changes: Any) -> TracklistPage:
    parsed = TracklistPage(
        tracklist_id="edit0001",
        url=f"{SITE}/tracklist/edit0001/a-set.html",
        title="A Set",
        djs=(NamedLink("Some DJ", f"{SITE}/dj/somedj/index.html"),),
        sources=(),
        date="2024-05-01",
        genres=("Techno",),
        entries=(_row(1, "Carl Cox", "Dexter", 0), _row(2, "ID", "ID", 60_000)),
    )
    return replace(parsed, **changes)


def _crawl(sessions: sessionmaker[Session], parsed: TracklistPage) -> StoreResult:
    item = TracklistItem(
        page=parsed,
        fetched_url=parsed.url or SITE,
        html_sha256=hashlib.sha256(repr(parsed).encode()).hexdigest(),
        fetched_at=datetime.now(UTC),
    )
    return run_transaction(sessions, lambda session: store_tracklist(session, item))


def _publish_edit(sessions: sessionmaker[Session], tracklist_id: uuid.UUID) -> None:
    """An editor fills in the ID row and publishes (version 2)."""

    def edit(session: Session) -> None:
        draft = drafts.create_draft(session, tracklist_id, author="ed")
        entries = [dict(entry) for entry in draft.content["entries"]]
        entries[1].update(artist="Amelie Lens", title="Hypnotized")
        edited = {**draft.content, "entries": entries}
        drafts.update_draft(session, tracklist_id, draft.id, edited)
        drafts.publish_draft(session, tracklist_id, draft.id, editor="ed")

    run_transaction(sessions, edit)


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(TracklistVersion)) or 0,
        session.scalar(select(func.count()).select_from(TracklistConflict)) or 0,
        session.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
    )


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def edited(sessions: sessionmaker[Session]) -> uuid.UUID:
    """A crawled set (version 1) with a published edit (version 2)."""
    tracklist_id = _crawl(sessions, _page()).tracklist_id
    _publish_edit(sessions, tracklist_id)
    return tracklist_id


def test_an_unchanged_page_leaves_the_edit_alone_at_no_cost(
    sessions: sessionmaker[Session], edited: uuid.UUID
) -> None:
    with sessions() as session:
        before = _counts(session)
    result = _crawl(sessions, _page())
    assert (result.outcome, result.version) == ("unchanged", 2)
    with sessions() as session:
        assert _counts(session) == before
        titles = session.scalars(
            select(TracklistEntry.title)
            .where(TracklistEntry.tracklist_id == edited)
            .order_by(TracklistEntry.row)
        ).all()
    assert titles == ["Dexter", "Hypnotized"]


def test_a_changed_page_is_held_with_one_conflict_that_follows_later_crawls(
    sessions: sessionmaker[Session], edited: uuid.UUID
) -> None:
    with sessions() as session:
        events_before = _counts(session)[2]
    other_dj = (NamedLink("Other DJ", f"{SITE}/dj/otherdj/index.html"),)
    held = _crawl(sessions, _page(title="Changed on the site", djs=other_dj))
    assert (held.outcome, held.version) == ("held", 2)
    assert _crawl(sessions, _page(title="Changed on the site", djs=other_dj)).outcome == (
        "unchanged"
    )
    assert _crawl(sessions, _page(title="Changed again")).outcome == "held"
    with sessions() as session:
        tracklist = session.get(Tracklist, edited)
        assert tracklist is not None
        assert (tracklist.title, tracklist.version) == ("A Set", 2)  # still the edit
        assert [e.title for e in tracklist.entries] == ["Dexter", "Hypnotized"]
        versions = session.execute(
            select(TracklistVersion.version, TracklistVersion.origin, TracklistVersion.published)
            .where(TracklistVersion.tracklist_id == edited)
            .order_by(TracklistVersion.version)
        ).all()
        assert [tuple(v) for v in versions] == [
            (1, "crawl", True),
            (2, "edit", True),
            (3, "crawl", False),
            (4, "crawl", False),
        ]
        [conflict] = session.scalars(select(TracklistConflict)).all()
        assert (conflict.status, conflict.edit_version, conflict.crawl_version) == ("open", 2, 4)
        assert _counts(session)[2] == events_before  # nothing published: nothing announced
        # DJs and sources are not edited by people: they follow the page.
        assert [dj.slug for dj in tracklist.djs] == ["somedj"]  # the latest crawl's again
    assert _crawl(sessions, _page(title="Changed again", djs=other_dj)).outcome == "held"
    with sessions() as session:
        tracklist = session.get(Tracklist, edited)
        assert tracklist is not None
        assert [dj.name for dj in tracklist.djs] == ["Other DJ"]


def test_after_accepting_a_crawl_later_crawls_publish_as_before(
    sessions: sessionmaker[Session], edited: uuid.UUID
) -> None:
    _crawl(sessions, _page(title="Changed on the site"))
    with sessions() as session:
        conflict_id = session.scalars(select(TracklistConflict.id)).one()
    run_transaction(
        sessions, lambda s: conflicts.resolve(s, edited, conflict_id, "accept", editor="ed")
    )
    with sessions() as session:
        tracklist = session.get(Tracklist, edited)
        assert tracklist is not None
        assert (tracklist.title, tracklist.version) == ("Changed on the site", 4)
        assert [e.title for e in tracklist.entries] == ["Dexter", "ID"]
    result = _crawl(sessions, _page(title="Newer"))
    assert (result.outcome, result.version) == ("updated", 5)


def test_at_most_one_open_conflict_per_tracklist(
    sessions: sessionmaker[Session], edited: uuid.UUID
) -> None:
    _crawl(sessions, _page(title="Changed on the site"))

    def second(session: Session) -> None:
        session.add(
            TracklistConflict(tracklist_id=edited, edit_version=2, crawl_version=3, status="open")
        )
        session.flush()

    with pytest.raises(IntegrityError):
        run_transaction(sessions, second)


def test_invalid_edits_are_refused_before_anything_is_stored(
    sessions: sessionmaker[Session], edited: uuid.UUID
) -> None:
    def edit(session: Session) -> None:
        draft = drafts.create_draft(session, edited, author="ed")
        entries = [dict(entry) for entry in draft.content["entries"]]
        entries[0]["cue_ms"] = 90_000  # row 1 now starts after row 2's 00:00
        drafts.update_draft(session, edited, draft.id, {**draft.content, "entries": entries})

    with pytest.raises(Invalid) as refused:
        run_transaction(sessions, edit)
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("entries.1.cue_ms", "row 2: cue 01:00 is before row 1's 01:30")
    ]

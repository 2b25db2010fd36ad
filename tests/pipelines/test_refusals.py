"""A tracklist's status follows the site: gone on 404/410, blocked on anti-bot pages."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem, TracklistRefused
from crawler.pages import TracklistPage, parse_page
from pipelines.persist import store_tracklist
from pipelines.refusals import record_refusal
from store.db import make_session_factory, run_transaction
from store.models import OutboxEvent, Tracklist, TracklistEntry

BICEP = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
URL = "http://127.0.0.1:8080/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


def _store(sessions: sessionmaker[Session], real_pages: Path) -> None:
    body = (real_pages / BICEP).read_bytes()
    page = parse_page(body)
    assert isinstance(page, TracklistPage)
    item = TracklistItem(
        page=page,
        fetched_url=URL,
        html_sha256=hashlib.sha256(body).hexdigest(),
        fetched_at=datetime.now(UTC),
    )
    run_transaction(sessions, lambda session: store_tracklist(session, item))


def _refuse(sessions: sessionmaker[Session], status: str, reason: str) -> str | None:
    refused = TracklistRefused(URL, status, reason)
    return run_transaction(sessions, lambda session: record_refusal(session, refused))


def _changes(session: Session) -> list[tuple[str, str]]:
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "tracklist.status_changed")
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
    )
    return [(e.payload["previous_status"], e.payload["status"]) for e in events]


def test_a_deleted_tracklist_is_gone_kept_and_active_again_when_served(
    sessions: sessionmaker[Session], real_pages: Path
) -> None:
    _store(sessions, real_pages)
    assert _refuse(sessions, "gone", "HTTP 410") == "active"
    assert _refuse(sessions, "gone", "HTTP 410") is None  # no change, no second event
    with sessions() as session:
        tracklist = session.scalars(select(Tracklist)).one()
        assert (tracklist.status, tracklist.track_count) == ("gone", 14)
        kept = session.scalars(select(TracklistEntry)).all()
        assert len(kept) == 14  # its data stays, still served
    _store(sessions, real_pages)
    with sessions() as session:
        assert session.scalars(select(Tracklist.status)).one() == "active"
        assert _changes(session) == [("active", "gone"), ("gone", "active")]


def test_refused_crawls_mark_it_blocked_until_a_page_is_served(
    sessions: sessionmaker[Session], real_pages: Path
) -> None:
    _store(sessions, real_pages)
    _refuse(sessions, "blocked", "anti-bot page (decoy): ...")
    with sessions() as session:
        assert session.scalars(select(Tracklist.status)).one() == "blocked"
    _store(sessions, real_pages)
    with sessions() as session:
        assert session.scalars(select(Tracklist.status)).one() == "active"
        assert _changes(session) == [("active", "blocked"), ("blocked", "active")]


def test_a_refused_first_crawl_stores_nothing(sessions: sessionmaker[Session]) -> None:
    assert _refuse(sessions, "gone", "HTTP 404") is None
    with sessions() as session:
        assert session.scalars(select(Tracklist)).all() == []
        assert _changes(session) == []

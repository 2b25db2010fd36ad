"""The one crawl-or-answer decision (``service.intake.decide``), on both backends."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem
from pipelines.persist import store_tracklist
from service import intake
from store.crawl_queue import CrawlQueue, finish_request
from store.db import run_transaction, session_scope
from store.models import CrawlRequest, Tracklist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_data import SITE, page, store_page

DAY = timedelta(hours=24)


def _url() -> str:
    site_id = uuid.uuid4().hex[:10]
    return f"{SITE}/tracklist/{site_id}/{site_id}-set.html"


def _decide(
    sessions: sessionmaker[Session], queue: CrawlQueue, url: str, **options: object
) -> intake.Decision:
    with sessions() as session:
        decision = intake.decide(session, queue, url, max_age=DAY, **options)
        session.expunge_all()
        return decision


def _requests(sessions: sessionmaker[Session], url: str) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(CrawlRequest).where(CrawlRequest.url == url)
            )
            or 0
        )


def test_a_fresh_stored_tracklist_is_the_answer(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    parsed = page(uuid.uuid4().hex[:10], [("Fresh", "fresh")], None, "2024-01-01")
    tracklist_id = store_page(sessions, parsed)
    assert parsed.url is not None
    decision = _decide(sessions, queue, parsed.url)
    assert decision.tracklist is not None
    assert (decision.tracklist.id, decision.request) == (tracklist_id, None)
    forced = _decide(sessions, queue, parsed.url, force_refresh=True)
    assert forced.tracklist is None
    assert forced.request is not None


def test_an_active_request_is_reused_whatever_id_the_caller_offers(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    url = _url()
    first = _decide(sessions, queue, url).request
    assert first is not None
    mine = uuid.uuid4()
    again = _decide(sessions, queue, url, correlation_id=mine).request
    assert again is not None
    assert again.correlation_id == first.correlation_id  # one crawl of the page, not two
    assert _requests(sessions, url) == 1


def test_a_callers_id_names_its_request_and_a_retry_finds_it(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    url, mine = _url(), uuid.uuid4()
    first = _decide(sessions, queue, url, correlation_id=mine).request
    assert first is not None
    assert first.correlation_id == mine
    with session_scope(sessions) as session:
        finish_request(session, str(mine), "failed", error="boom")
    retried = _decide(sessions, queue, url, correlation_id=mine).request
    assert retried is not None
    # The same request, even finished: a retried call is not a second crawl.
    assert (retried.correlation_id, retried.status) == (mine, "failed")
    assert _requests(sessions, url) == 1


def test_a_callers_id_for_another_url_is_a_conflict(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    mine = uuid.uuid4()
    _decide(sessions, queue, _url(), correlation_id=mine)
    with pytest.raises(intake.CorrelationConflict, match=str(mine)):
        _decide(sessions, queue, _url(), correlation_id=mine)


def test_a_concurrent_call_with_the_same_id_gets_the_request_it_queued(
    sessions: sessionmaker[Session], queue: CrawlQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, mine = _url(), uuid.uuid4()
    submit = queue.submit

    def racing_submit(url: str, **options: object) -> CrawlRequest:
        submit(url, **options)  # the other caller wins the race
        return submit(url, **options)  # ours hits the unique id

    monkeypatch.setattr(queue, "submit", racing_submit)
    decision = _decide(sessions, queue, url, correlation_id=mine, force_refresh=True)
    assert decision.request is not None
    assert decision.request.correlation_id == mine
    assert _requests(sessions, url) == 1


def test_a_moved_tracklist_is_found_by_its_old_address(sessions: sessionmaker[Session]) -> None:
    new_id, old_id = uuid.uuid4().hex[:10], uuid.uuid4().hex[:10]
    parsed = page(new_id, [("Moved", "moved")], None, "2024-01-01")
    old_url = f"{SITE}/tracklist/{old_id}/old-slug.html"
    item = TracklistItem(
        page=parsed,
        fetched_url=f"{SITE}/tracklist/{new_id}/new-slug.html",
        html_sha256="0" * 64,
        fetched_at=datetime.now(UTC),
        requested_url=old_url,
    )
    stored = run_transaction(sessions, lambda session: store_tracklist(session, item))
    other = store_page(sessions, page(old_id, [("Old", "old")], None, "2020-01-01"))
    assert parsed.url is not None
    with sessions() as session:

        def found(url: str) -> uuid.UUID | None:
            tracklist = intake.stored_by_url(session, url)
            return tracklist.id if tracklist is not None else None

        assert found(parsed.url) == stored.tracklist_id
        # A tracklist stored under the id itself comes first; the alias answers otherwise.
        assert found(old_url) == other
        session.execute(delete(Tracklist).where(Tracklist.id == other))
        assert found(old_url) == stored.tracklist_id
        assert found(f"{SITE}/tracklist/nothing00/x.html") is None

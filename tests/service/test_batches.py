"""Batch jobs on both backends: crawl intake per item, progress from crawl requests, CUE zips."""

from __future__ import annotations

import io
import json
import sys
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import cue
from service.batch_progress import BatchState, batch_state, list_batches
from service.batches import MAX_INPUT_CHARS, submit_crawl_batch
from service.cue_batches import make_cue_batch
from service.intake import aware
from store.crawl_queue import CrawlQueue, finish_request
from store.db import session_scope
from store.models import BatchJob, CrawlRequest, CueFile, User

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_data import SITE, entry, page, store_page

DAY = timedelta(hours=24)


def _url(site_id: str) -> str:
    return f"{SITE}/tracklist/{site_id}/{site_id}-set.html"


def _new_url() -> str:
    return _url(uuid.uuid4().hex[:10])


def _state(sessions: sessionmaker[Session], batch_id: uuid.UUID) -> BatchState:
    with sessions() as session:
        state = batch_state(session, batch_id)
    assert state is not None
    return state


def _take_all(queue: CrawlQueue) -> list[str]:
    return [job.correlation_id for job in queue.take(100, "test-worker", lease_seconds=60)]


def test_crawl_batch_queues_good_urls_and_records_bad_ones(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    fresh = store_page(sessions, page("fresh1", [("Fresh", "fresh")], None, "2024-01-01"))
    active_url = _new_url()
    active = queue.submit(active_url)
    good = _new_url()
    inputs = [
        good,
        "https://evil.example.com/tracklist/abc/x.html",
        "http://127.0.0.1/tracklist/abc/x.html",
        "http://[::1]/tracklist/abc/x.html",
        "http://2130706433/tracklist/abc/x.html",
        "not a url",
        "file:///etc/passwd",
        good.replace("https://www.", "http://").upper().replace("HTTP://", "http://"),
        _url("fresh1"),
        active_url,
        "\x00\ud800" + "x" * (2 * MAX_INPUT_CHARS),
    ]
    batch_id = submit_crawl_batch(sessions, queue, inputs, max_age=DAY, requested_by="tests")
    state = _state(sessions, batch_id)
    items = state.items
    assert [item.input for item in items[:10]] == inputs[:10]
    assert [item.status for item in items] == ["queued"] + ["failed"] * 6 + [
        "queued",
        "done",
        "queued",
        "failed",
    ]
    assert "not the tracklist site" in (items[1].error or "")
    assert "IP addresses are not accepted" in (items[2].error or "")
    assert "IP addresses are not accepted" in (items[3].error or "")
    assert "IP addresses are not accepted" in (items[4].error or "")
    assert "only http and https" in (items[6].error or "")
    # The same page in another spelling is one crawl, shared by both items.
    assert items[0].correlation_id is not None
    assert items[7].correlation_id == items[0].correlation_id
    assert (items[8].tracklist_id, items[8].correlation_id) == (fresh, None)
    assert items[9].correlation_id == active.correlation_id  # the queued request is reused
    # What PostgreSQL cannot store is escaped, and long inputs are cut.
    assert items[10].input.startswith("\\x00\\ud800x")
    assert len(items[10].input) == MAX_INPUT_CHARS
    with sessions() as session:
        assert session.scalar(select(func.count()).where(CrawlRequest.url == good)) == 1
    queued = [json.loads(raw) for raw in queue.redis.lrange(queue.key, 0, -1)]
    assert sorted(message["url"] for message in queued) == sorted([good, active_url])
    assert (state.kind, state.total, state.status, state.finished_at) == (
        "crawl",
        11,
        "running",
        None,
    )
    assert (state.counts["pending"], state.counts["done"], state.counts["failed"]) == (3, 1, 7)
    assert state.requested_by == "tests"


def test_progress_follows_the_crawl_requests(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    urls = [_new_url() for _ in range(3)]
    batch_id = submit_crawl_batch(
        sessions, queue, [*urls, "http://10.0.0.1/tracklist/a/b.html"], max_age=DAY
    )
    ids = [str(item.correlation_id) for item in _state(sessions, batch_id).items[:3]]
    assert sorted(_take_all(queue)) == sorted(ids)
    running = _state(sessions, batch_id)
    assert [item.status for item in running.items] == ["running"] * 3 + ["failed"]
    assert running.counts["pending"] == 3

    site_id = urls[0].split("/")[4]
    stored = store_page(sessions, page(site_id, [("Someone", "someone")], None, "2025-01-01"))
    with session_scope(sessions) as session:
        finish_request(session, ids[0], "done", tracklist_id=stored)
        finish_request(session, ids[1], "failed", error="HTTP 404")
    halfway = _state(sessions, batch_id)
    assert (halfway.status, halfway.finished_at) == ("running", None)
    assert (halfway.counts["done"], halfway.counts["failed"], halfway.counts["pending"]) == (
        1,
        2,
        1,
    )
    assert halfway.items[0].tracklist_id == stored  # known from the crawl request
    assert halfway.items[1].error == "HTTP 404"

    with session_scope(sessions) as session:
        finish_request(session, ids[2], "blocked", error="captcha page")
    finished = _state(sessions, batch_id)
    assert [item.status for item in finished.items] == ["done", "failed", "blocked", "failed"]
    assert (finished.status, finished.counts["done"], finished.counts["failed"]) == ("done", 1, 3)
    with sessions() as session:
        last = session.scalar(
            select(func.max(CrawlRequest.finished_at)).where(CrawlRequest.url.in_(urls))
        )
    assert last is not None
    assert finished.finished_at == aware(last)  # when the last of its requests finished


def test_a_batch_of_bad_urls_is_a_failed_job(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    batch_id = submit_crawl_batch(
        sessions, queue, ["ftp://x/y", "http://localhost/tracklist/a/b.html"], max_age=DAY
    )
    state = _state(sessions, batch_id)
    assert (state.status, state.total, state.counts["failed"]) == ("failed", 2, 2)
    assert state.finished_at == state.created_at
    assert queue.depth() == 0


def test_force_refresh_crawls_stored_and_queued_pages_again(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    store_page(sessions, page("forced1", [("Forced", "forced")], None, "2024-01-01"))
    active = queue.submit(_url("forced2"))
    batch_id = submit_crawl_batch(
        sessions, queue, [_url("forced1"), _url("forced2")], max_age=DAY, force_refresh=True
    )
    items = _state(sessions, batch_id).items
    assert [item.status for item in items] == ["queued", "queued"]
    assert items[1].correlation_id != active.correlation_id
    queued = [json.loads(raw) for raw in queue.redis.lrange(queue.key, 0, -1)]
    assert sum(message["force_refresh"] for message in queued) == 2


def test_a_deleted_crawl_request_fails_its_item(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    batch_id = submit_crawl_batch(sessions, queue, [_new_url()], max_age=DAY)
    with session_scope(sessions) as session:
        session.delete(session.scalars(select(CrawlRequest)).one())
    state = _state(sessions, batch_id)
    assert (state.status, state.items[0].status) == ("failed", "failed")
    assert state.items[0].error == "the crawl request no longer exists"


def test_jobs_are_listed_per_owner_newest_first(
    sessions: sessionmaker[Session], queue: CrawlQueue
) -> None:
    with session_scope(sessions) as session:
        owner = User(username="batch-owner", role="reader")
        other = User(username="batch-other", role="reader")
        session.add_all([owner, other])
    first = submit_crawl_batch(sessions, queue, [_new_url(), "x"], max_age=DAY, user_id=owner.id)
    second = submit_crawl_batch(sessions, queue, ["y"], max_age=DAY, user_id=owner.id)
    submit_crawl_batch(sessions, queue, ["z"], max_age=DAY, user_id=other.id)
    submit_crawl_batch(sessions, queue, ["w"], max_age=DAY)
    with sessions() as session:
        listed, total = list_batches(session, owner.id, limit=10)
        paged, _ = list_batches(session, owner.id, limit=1, offset=1)
        anonymous, anonymous_total = list_batches(session, None, limit=10)
    assert total == 2
    assert [state.id for state in listed] == [second, first]
    assert [(state.status, state.total) for state in listed] == [("failed", 1), ("running", 2)]
    assert (listed[1].counts["pending"], listed[1].counts["failed"]) == (1, 1)
    assert [state.id for state in paged] == [first]
    assert (anonymous_total, len(anonymous)) == (1, 1)


def test_cue_batch_renders_records_and_zips(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    one = store_page(sessions, page("cueone", [("Sven Väth", "svenvath")], None, "2024-04-06"))
    store_page(sessions, page("cuetwo", [("Carl Cox", "carlcox")], None, "2024-04-07"))
    unrenderable = store_page(
        sessions,
        # Two hours: longer than a CD holds, so the cd format refuses it.
        page(
            "cuelong",
            [("Long", "long")],
            None,
            None,
            entries=(entry(1, "A", "B", 0), entry(2, "C", "D", 7200_000)),
        ),
    )
    inputs = [
        str(one),
        _url("cuetwo").replace("https://www.", "https://"),
        str(one),  # the same set again: one file
        str(uuid.uuid4()),
        _url("notstored"),
        "garbage",
        str(unrenderable),
    ]
    steps: list[int] = []
    batch_id = make_cue_batch(
        sessions, tmp_path, inputs, "cd", on_item=lambda: steps.append(len(steps))
    )
    assert len(steps) == len(inputs)
    state = _state(sessions, batch_id)
    assert [item.status for item in state.items] == ["done"] * 3 + ["failed"] * 4
    assert state.items[2].cue_file_id == state.items[0].cue_file_id
    assert "no stored tracklist" in (state.items[3].error or "")
    assert "is not stored; crawl it first" in (state.items[4].error or "")
    assert "neither a tracklist id nor a tracklist URL" in (state.items[5].error or "")
    assert state.items[6].tracklist_id == unrenderable
    assert "past 99:59:74" in (state.items[6].error or "")
    assert (state.kind, state.format, state.status, state.total) == ("cue", "cd", "done", 7)
    assert state.finished_at == state.created_at

    assert state.storage_path is not None
    archive = zipfile.ZipFile(io.BytesIO(Path(state.storage_path).read_bytes()))
    assert sorted(archive.namelist()) == ["cueone-set.cue", "cuetwo-set.cue"]
    with sessions() as session:
        files = {
            row.filename: row
            for row in session.scalars(
                select(CueFile).where(CueFile.id.in_([item.cue_file_id for item in state.items]))
            )
        }
    for name in archive.namelist():
        text = archive.read(name).decode()
        parsed = cue.parse(text, strict=True)
        assert not cue.has_errors(parsed.problems), parsed.problems
        assert len(parsed.sheet.tracks()) == 3  # the "w/" row joins the track before it
        # Recorded as POST /cue/generate records a file: the row and the stored file agree.
        assert files[name].content == text
        assert Path(files[name].storage_path or "").read_text() == text
    assert "Sven V" in archive.read("cueone-set.cue").decode()


def test_a_failed_cue_batch_leaves_no_files(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    one = store_page(sessions, page("cuefail", [("A", "a")], None, "2024-04-06"))
    storage = tmp_path / "storage"
    with pytest.raises(IntegrityError):  # no such user: the job row cannot be written
        make_cue_batch(sessions, storage, [str(one)], "standard", user_id=10**9)
    assert list(storage.iterdir()) == []  # neither the CUE file nor the zip is left behind
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CueFile)) == 0
        assert session.scalar(select(func.count()).select_from(BatchJob)) == 0


def test_unknown_formats_are_refused(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        make_cue_batch(sessions, tmp_path, ["x"], "mp3")

"""Batch jobs over REST: crawl intake per URL, progress as crawls finish, CUE zips, access."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from api_data import SITE, entry, page, store_page
from api_helpers import PASSWORD, PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

import cue
from api import create_app
from config.settings import Settings
from store.crawl_queue import DEFAULT_QUEUE_KEY, CrawlJob, CrawlQueue, finish_request
from store.db import session_scope
from store.models import BatchJob, User


@dataclass(frozen=True)
class Setup:
    client: FlaskClient
    storage: Path


@pytest.fixture
def setup(api_settings: Settings, tmp_path: Path) -> Setup:
    storage = tmp_path / "storage"
    app = create_app(api_settings, storage_dir=storage, batch_max_items=20)
    return Setup(app.test_client(), storage)


@pytest.fixture
def reader(login: Callable[[str], dict[str, Any]]) -> dict[str, str]:
    return bearer(login("reader")["access_token"])


def _new_url() -> str:
    site_id = uuid.uuid4().hex[:10]
    return f"{SITE}/tracklist/{site_id}/someone-somewhere.html"


def _stored(store_sessions: sessionmaker[Session], name: str) -> tuple[uuid.UUID, str]:
    parsed = page(uuid.uuid4().hex[:10], [(name, name.lower())], None, "2024-04-06")
    assert parsed.url is not None
    return store_page(store_sessions, parsed), parsed.url


def _lease(
    store_sessions: sessionmaker[Session], redis_server: redis.Redis, items: list[Any]
) -> None:
    """A worker takes these items' requests (through a private list: the shared one may hold
    other tests' messages, and other test runs may pop from it)."""
    queue = CrawlQueue(redis_server, store_sessions, f"test:batch:{uuid.uuid4().hex[:8]}")
    for item in items:
        queue.redis.lpush(queue.key, CrawlJob(item["correlation_id"], item["input"]).to_message())
    assert len(queue.take(len(items), "test-worker", lease_seconds=60)) == len(items)


def test_crawl_batch_queues_good_urls_and_records_bad_ones(
    setup: Setup,
    reader: dict[str, str],
    store_sessions: sessionmaker[Session],
    redis_server: redis.Redis,
) -> None:
    fresh_id, fresh_url = _stored(store_sessions, "Fresh")
    good = _new_url()
    urls = [
        good,
        "https://evil.example.com/tracklist/abc/x.html",  # off-site
        "http://127.0.0.1/tracklist/abc/x.html",  # internal addresses
        "http://[::1]/tracklist/abc/x.html",
        "http://0x7f.1/tracklist/abc/x.html",
        "https://www.1001tracklists.com:8443/tracklist/abc/x.html",
        "https://user@www.1001tracklists.com/tracklist/abc/x.html",
        "not a url",  # malformed
        "https://www.1001tracklists.com/dj/carlcox/index.html",
        good.replace("https://www.", "http://"),  # the same page again
        fresh_url,  # stored and fresh: nothing to crawl
    ]
    response = setup.client.post(f"{PREFIX}/batch/crawl", json={"urls": urls}, headers=reader)
    assert response.status_code == 202, response.json
    body = response.json
    assert response.headers["Location"] == f"{PREFIX}/batch/{body['id']}"
    assert (body["kind"], body["status"], body["format"], body["download_url"]) == (
        "crawl",
        "running",
        None,
        None,
    )
    assert (body["total"], body["pending"], body["done"], body["failed"]) == (11, 2, 1, 8)
    items = body["items"]
    assert [item["input"] for item in items] == urls
    assert [item["status"] for item in items] == ["queued"] + ["failed"] * 8 + ["queued", "done"]
    errors = [item["error"] for item in items[1:9]]
    assert "not the tracklist site" in errors[0]
    assert all("IP addresses are not accepted" in error for error in errors[1:4])
    assert "only the default port" in errors[4]
    assert "user name or password" in errors[5]
    assert "whitespace" in errors[6]
    assert "not a tracklist page" in errors[7]
    assert items[9]["correlation_id"] == items[0]["correlation_id"]  # one crawl for both
    assert items[10]["tracklist_id"] == str(fresh_id)
    queued = [json.loads(raw) for raw in redis_server.lrange(DEFAULT_QUEUE_KEY, 0, -1)]
    mine = [
        message for message in queued if message["correlation_id"] == items[0]["correlation_id"]
    ]
    assert mine == [
        {"url": good, "correlation_id": items[0]["correlation_id"], "force_refresh": False}
    ]
    # Each queued item is an ordinary crawl request, followed as POST /tracklist's are.
    status = setup.client.get(items[0]["status_url"]).json
    assert (status["status"], status["url"]) == ("queued", good)
    # POST /tracklist for the same page now reuses the batch's request.
    again = setup.client.post(f"{PREFIX}/tracklist", json={"url": good}, headers=reader)
    assert again.json["correlation_id"] == items[0]["correlation_id"]


def test_progress_moves_as_the_crawls_finish(
    setup: Setup,
    reader: dict[str, str],
    store_sessions: sessionmaker[Session],
    redis_server: redis.Redis,
) -> None:
    urls = [_new_url() for _ in range(3)]
    created = setup.client.post(
        f"{PREFIX}/batch/crawl", json={"urls": [*urls, "ftp://x/y"]}, headers=reader
    ).json
    path = f"{PREFIX}/batch/{created['id']}"
    _lease(store_sessions, redis_server, created["items"][:3])
    running = setup.client.get(path, headers=reader).json
    assert [item["status"] for item in running["items"]] == ["running"] * 3 + ["failed"]
    assert (running["status"], running["pending"], running["finished_at"]) == ("running", 3, None)

    ids = [item["correlation_id"] for item in created["items"][:3]]
    site_id = urls[0].split("/")[4]
    tracklist_id = store_page(store_sessions, page(site_id, [("Someone", "x")], None, None))
    with session_scope(store_sessions) as session:
        finish_request(session, ids[0], "done", tracklist_id=tracklist_id)
    halfway = setup.client.get(path, headers=reader).json
    assert (halfway["done"], halfway["failed"], halfway["pending"]) == (1, 1, 2)
    assert halfway["items"][0]["tracklist_id"] == str(tracklist_id)

    with session_scope(store_sessions) as session:
        finish_request(session, ids[1], "failed", error="HTTP 410")
        finish_request(session, ids[2], "blocked", error="captcha page")
    finished = setup.client.get(path, headers=reader).json
    assert [item["status"] for item in finished["items"]] == ["done", "failed", "blocked", "failed"]
    assert [item["error"] for item in finished["items"][1:3]] == ["HTTP 410", "captcha page"]
    assert (finished["status"], finished["done"], finished["failed"], finished["pending"]) == (
        "done",
        1,
        3,
        0,
    )
    assert finished["finished_at"] is not None
    assert finished["finished_at"] >= finished["created_at"]


def test_a_batch_of_only_bad_urls_is_still_a_job(setup: Setup, reader: dict[str, str]) -> None:
    response = setup.client.post(
        f"{PREFIX}/batch/crawl",
        json={"urls": ["http://169.254.169.254/latest/meta-data", "javascript:alert(1)", ""]},
        headers=reader,
    )
    assert response.status_code == 202
    body = response.json
    assert (body["status"], body["total"], body["failed"], body["pending"]) == ("failed", 3, 3, 0)
    assert body["finished_at"] == body["created_at"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("crawl", {"urls": []}, "urls"),
        ("crawl", {"urls": [_new_url() for _ in range(21)]}, "urls"),
        ("crawl", {}, "urls"),
        ("crawl", {"urls": "https://www.1001tracklists.com/tracklist/a/b.html"}, "urls"),
        ("crawl", {"urls": [None]}, "urls.0"),
        ("crawl", {"urls": ["x"], "force_refresh": "maybe"}, "force_refresh"),
        ("cue", {"tracklists": []}, "tracklists"),
        ("cue", {"tracklists": [str(uuid.uuid4())] * 21}, "tracklists"),
        ("cue", {"tracklists": [str(uuid.uuid4())], "format": "mp3"}, "format"),
    ],
)
def test_bad_batches_are_422_naming_the_field(
    setup: Setup, reader: dict[str, str], path: str, body: dict[str, Any], field: str
) -> None:
    response = setup.client.post(f"{PREFIX}/batch/{path}", json=body, headers=reader)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == [field]
    if "21" in response.json["detail"]:
        assert "at most 20" in response.json["detail"]


def test_cue_batch_is_a_zip_of_recorded_files(
    setup: Setup, reader: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    first_id, _ = _stored(store_sessions, "First")
    _, second_url = _stored(store_sessions, "Second")
    unknown = str(uuid.uuid4())
    inputs = [str(first_id), second_url, unknown, f"{SITE}/tracklist/zz9zz/nothing.html", "?"]
    response = setup.client.post(
        f"{PREFIX}/batch/cue", json={"tracklists": inputs, "format": "standard"}, headers=reader
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["kind"], body["format"], body["status"]) == ("cue", "standard", "done")
    assert (body["total"], body["done"], body["failed"], body["pending"]) == (5, 2, 3, 0)
    items = body["items"]
    assert [item["status"] for item in items] == ["done", "done", "failed", "failed", "failed"]
    assert items[2]["error"] == f"no stored tracklist {unknown}"
    assert "is not stored; crawl it first" in items[3]["error"]
    assert body["download_url"] == f"{PREFIX}/batch/{body['id']}/download"

    download = setup.client.get(body["download_url"], headers=reader)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert len(archive.namelist()) == 2
    for name in archive.namelist():
        parsed = cue.parse(archive.read(name).decode())
        assert not cue.has_errors(parsed.problems), parsed.problems
        assert len(parsed.sheet.tracks()) == 3
    # Each file is recorded as POST /cue/generate records one.
    for item in items[:2]:
        recorded = setup.client.get(f"{PREFIX}/cue/{item['cue_id']}").json
        assert recorded["tracklist_id"] == item["tracklist_id"]
        assert recorded["cue_content"].encode() in {archive.read(n) for n in archive.namelist()}
    # A copy of the zip is in the storage folder, next to the CUE files.
    assert (setup.storage / f"batch-{body['id']}.zip").read_bytes() == download.data


def test_a_cue_batch_that_cannot_render_fails_per_item(
    setup: Setup, reader: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    long_set = page(
        uuid.uuid4().hex[:10],
        [("Long", "long")],
        None,
        None,
        entries=(entry(1, "A", "B", 0), entry(2, "C", "D", 7200_000)),
    )
    tracklist_id = store_page(store_sessions, long_set)
    response = setup.client.post(
        f"{PREFIX}/batch/cue",
        json={"tracklists": [str(tracklist_id)], "format": "cd"},
        headers=reader,
    )
    assert response.status_code == 201
    body = response.json
    assert (body["status"], body["failed"]) == ("failed", 1)
    assert "past 99:59:74" in body["items"][0]["error"]
    download = setup.client.get(body["download_url"], headers=reader)
    assert zipfile.ZipFile(io.BytesIO(download.data)).namelist() == []


def test_jobs_are_their_owners_only(
    setup: Setup,
    store_sessions: sessionmaker[Session],
    login: Callable[[str], dict[str, Any]],
) -> None:
    alice, bob = bearer(login("reader")["access_token"]), bearer(login("reader")["access_token"])
    tracklist_id, _ = _stored(store_sessions, "Owned")
    crawl = setup.client.post(f"{PREFIX}/batch/crawl", json={"urls": ["x"]}, headers=alice).json
    cue_job = setup.client.post(
        f"{PREFIX}/batch/cue", json={"tracklists": [str(tracklist_id)]}, headers=alice
    ).json
    for path in (
        f"batch/{crawl['id']}",
        f"batch/{cue_job['id']}",
        f"batch/{cue_job['id']}/download",
    ):
        assert setup.client.get(f"{PREFIX}/{path}", headers=alice).status_code == 200
        refused = setup.client.get(f"{PREFIX}/{path}", headers=bob)
        assert refused.status_code == 404
        assert refused.mimetype == "application/problem+json"
    listed = setup.client.get(f"{PREFIX}/batch", headers=alice).json
    assert [job["id"] for job in listed["batches"]] == [cue_job["id"], crawl["id"]]
    assert (listed["total"], listed["page"], listed["limit"]) == (2, 1, 20)
    assert "items" not in listed["batches"][0]
    second_page = setup.client.get(f"{PREFIX}/batch?limit=1&page=2", headers=alice).json
    assert [job["id"] for job in second_page["batches"]] == [crawl["id"]]
    assert setup.client.get(f"{PREFIX}/batch", headers=bob).json["batches"] == []
    assert setup.client.get(f"{PREFIX}/batch?limit=0", headers=bob).status_code == 422


def test_downloads_of_crawl_batches_and_lost_legacy_zips_are_404(
    setup: Setup, reader: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    crawl = setup.client.post(f"{PREFIX}/batch/crawl", json={"urls": ["x"]}, headers=reader).json
    response = setup.client.get(f"{PREFIX}/batch/{crawl['id']}/download", headers=reader)
    assert response.status_code == 404
    assert "crawl batch" in response.json["detail"]
    tracklist_id, _ = _stored(store_sessions, "Lost")
    cue_job = setup.client.post(
        f"{PREFIX}/batch/cue", json={"tracklists": [str(tracklist_id)]}, headers=reader
    ).json
    # The zip is kept in the database: its local copy gone, it is still served.
    (setup.storage / f"batch-{cue_job['id']}.zip").unlink()
    kept = setup.client.get(cue_job["download_url"], headers=reader)
    assert kept.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(kept.data)).namelist() != []
    # A job from before migration 0012 (no zip in its row) whose local copy is gone: 404.
    with session_scope(store_sessions) as session:
        session.execute(
            update(BatchJob).where(BatchJob.id == uuid.UUID(cue_job["id"])).values(archive=None)
        )
    lost = setup.client.get(cue_job["download_url"], headers=reader)
    assert lost.status_code == 404
    assert "no longer in storage" in lost.json["detail"]
    missing = setup.client.get(f"{PREFIX}/batch/{uuid.uuid4()}", headers=reader)
    assert missing.status_code == 404


def test_batch_crawls_need_what_post_tracklist_needs(api_settings: Settings) -> None:
    body = {"urls": [_new_url()]}
    closed = create_app(api_settings).test_client()
    assert closed.post(f"{PREFIX}/batch/crawl", json=body).status_code == 401
    assert closed.post(f"{PREFIX}/batch/cue", json={"tracklists": ["x"]}).status_code == 401
    open_app = create_app(api_settings, api_crawl_requires_auth=False).test_client()
    answer = open_app.post(f"{PREFIX}/batch/crawl", json=body)
    assert answer.status_code == 202, answer.json
    assert answer.json["items"][0]["status"] == "queued"  # followed through its status_url
    assert open_app.post(f"{PREFIX}/batch/cue", json={"tracklists": ["x"]}).status_code == 401


def test_a_token_of_a_deleted_user_is_refused(
    setup: Setup, make_user: Callable[..., str], store_sessions: sessionmaker[Session]
) -> None:
    username = make_user("reader")
    token = setup.client.post(
        f"{PREFIX}/auth/token", json={"username": username, "password": PASSWORD}
    ).json["access_token"]
    with session_scope(store_sessions) as session:
        session.execute(delete(User).where(User.username == username))
    response = setup.client.post(
        f"{PREFIX}/batch/crawl", json={"urls": ["x"]}, headers=bearer(token)
    )
    assert response.status_code == 401
    assert response.json["type"].endswith(":invalid-token")


def test_batches_are_rate_limited_as_everything_else(
    api_settings: Settings, reader: dict[str, str]
) -> None:
    client = create_app(api_settings, api_rate_limit_authenticated="2/minute").test_client()
    answers = [
        client.post(f"{PREFIX}/batch/crawl", json={"urls": ["x"]}, headers=reader).status_code
        for _ in range(3)
    ]
    assert answers == [202, 202, 429]

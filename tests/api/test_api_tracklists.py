"""Tracklists: the seed's shapes, 200 vs 202 on POST, crawl status, cache and invalidation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from api_data import SITE, Catalogue, changed, page, store_page
from api_helpers import PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from api.tracklists import TracklistAnswerSchema
from config.settings import Settings
from store.crawl_queue import DEFAULT_QUEUE_KEY, CrawlQueue, finish_request
from store.db import session_scope
from store.models import Tracklist, utcnow


@pytest.fixture
def reader(login: Callable[[str], dict[str, Any]]) -> dict[str, str]:
    return bearer(login("reader")["access_token"])


def _unknown_url() -> str:
    site_id = uuid.uuid4().hex[:10]
    return f"{SITE}/tracklist/{site_id}/someone-somewhere.html"


def test_tracklist_has_the_seed_shapes(client: FlaskClient, catalogue: Catalogue) -> None:
    response = client.get(f"{PREFIX}/tracklist/{catalogue.ids['cox-timewarp']}")
    assert response.status_code == 200
    body = response.json
    assert (body["dj_name"], body["event_name"], body["date"]) == (
        "Carl Cox",
        "Time Warp",
        "2024-04-06",
    )
    assert body["url"] == catalogue.url("cox-timewarp")
    assert body["metadata"]["version"] == 1
    first, second, layered, unknown = body["tracks"]
    assert first["timestamp"] == {"track_number": 1, "timestamp_ms": 0, "formatted_time": "00:00"}
    assert (first["artist"], first["title"], first["remix"], first["label"]) == (
        "Carl Cox",
        "The Revolution Continues",
        "Original Mix",
        "Intec",
    )
    assert second["timestamp"]["formatted_time"] == "03:05"
    assert layered["timestamp"] is None  # the page shows no time: nothing is made up
    assert (layered["played_with_previous"], layered["position"]) == (True, None)
    assert unknown["is_id"] is True
    assert unknown["timestamp"]["formatted_time"] == "1:02:05"
    assert body["transitions"] == [
        {
            "from_track": 1,
            "to_track": 2,
            "transition_type": "sequential",
            "timestamp_ms": 185_000,
            "duration_ms": None,
            "notes": None,
        },
        {
            "from_track": 2,
            "to_track": 3,
            "transition_type": "layered",
            "timestamp_ms": None,
            "duration_ms": None,
            "notes": "played with the previous track",
        },
        {
            "from_track": 2,
            "to_track": 4,
            "transition_type": "sequential",
            "timestamp_ms": 3_725_000,
            "duration_ms": None,
            "notes": None,
        },
    ]
    plain = client.get(
        f"{PREFIX}/tracklist/{catalogue.ids['cox-timewarp']}?include_transitions=false"
    )
    assert plain.json["transitions"] is None
    explicit = client.get(
        f"{PREFIX}/tracklist/{catalogue.ids['cox-timewarp']}?include_transitions=1"
    )
    assert explicit.json["transitions"] == body["transitions"]
    wrong = client.get(
        f"{PREFIX}/tracklist/{catalogue.ids['cox-timewarp']}?include_transitions=maybe"
    )
    assert wrong.status_code == 422
    assert wrong.json["errors"] == [
        {"field": "include_transitions", "location": "query", "message": "Not a valid boolean."}
    ]
    assert client.get(f"{PREFIX}/tracklist/{uuid.uuid4()}").status_code == 404


def test_stored_and_fresh_is_200_by_url_or_id(
    client: FlaskClient, catalogue: Catalogue, reader: dict[str, str]
) -> None:
    by_url = client.post(
        f"{PREFIX}/tracklist", json={"url": catalogue.url("tiesto-ultra")}, headers=reader
    )
    assert by_url.status_code == 200, by_url.json
    assert by_url.json["status"] == "done"
    assert by_url.json["tracklist"]["dj_name"] == "Tiësto"
    assert by_url.json["tracklist"]["tracks"][0]["timestamp"]["formatted_time"] == "00:00"
    # The site's links come without www. and with upper case too.
    loose = catalogue.url("tiesto-ultra").replace("www.", "").upper().replace("HTTPS", "https")
    assert (
        client.post(f"{PREFIX}/tracklist", json={"url": loose}, headers=reader).status_code == 200
    )
    by_id = client.post(
        f"{PREFIX}/tracklist",
        json={"tracklist_id": str(catalogue.ids["tiesto-ultra"]), "include_transitions": False},
        headers=reader,
    )
    assert by_id.status_code == 200
    assert by_id.json["tracklist"]["transitions"] is None
    # The envelope is written around the cached JSON: it still is the declared schema.
    for answer in (by_url.json, by_id.json):
        assert TracklistAnswerSchema().validate(answer) == {}
        assert set(answer) == set(TracklistAnswerSchema().fields)
        assert (answer["correlation_id"], answer["status_url"]) == (None, None)


def test_unknown_url_is_queued_and_followed_to_done(
    client: FlaskClient,
    catalogue: Catalogue,
    reader: dict[str, str],
    store_sessions: sessionmaker[Session],
    redis_server: redis.Redis,
) -> None:
    url = _unknown_url()
    response = client.post(f"{PREFIX}/tracklist", json={"url": url}, headers=reader)
    assert response.status_code == 202, response.json
    correlation_id = response.json["correlation_id"]
    assert response.json["status"] == "queued"
    assert response.headers["Location"] == response.json["status_url"]
    assert response.json["status_url"] == f"{PREFIX}/tracklist/status/{correlation_id}"
    queued = [json.loads(raw) for raw in redis_server.lrange(DEFAULT_QUEUE_KEY, 0, -1)]
    assert {"url": url, "correlation_id": correlation_id, "force_refresh": False} in queued
    # Asking again while it waits answers the same request (the page is not queued twice).
    again = client.post(f"{PREFIX}/tracklist", json={"url": url}, headers=reader)
    assert again.json["correlation_id"] == correlation_id

    status = client.get(response.json["status_url"]).json
    assert (status["status"], status["url"], status["tracklist_id"]) == ("queued", url, None)

    # A worker takes it...
    queue = CrawlQueue(redis_server, store_sessions)
    _take(queue, correlation_id)
    assert client.get(response.json["status_url"]).json["status"] == "running"
    # ...and stores the page and finishes the request.
    site_id = url.split("/")[4]
    tracklist_id = store_page(
        store_sessions, page(site_id, [("Someone", f"someone{site_id}")], None, "2025-01-01")
    )
    with session_scope(store_sessions) as session:
        finish_request(session, correlation_id, "done", tracklist_id=tracklist_id)
    done = client.get(response.json["status_url"]).json
    assert (done["status"], done["attempts"]) == ("done", 1)
    assert done["tracklist_url"] == f"{PREFIX}/tracklist/{tracklist_id}"
    assert client.get(done["tracklist_url"]).json["date"] == "2025-01-01"
    # Now stored and fresh: answered at once.
    assert client.post(f"{PREFIX}/tracklist", json={"url": url}, headers=reader).status_code == 200


def _take(queue: CrawlQueue, correlation_id: str) -> None:
    # Other tests' requests may wait in the shared list: take until ours is leased.
    for _ in range(1000):
        jobs = queue.take(50, "test-worker", lease_seconds=60)
        if any(job.correlation_id == correlation_id for job in jobs):
            return
        assert jobs, "the request never reached the queue"
    raise AssertionError("not found")


def test_force_refresh_and_stale_tracklists_are_queued(
    client: FlaskClient,
    catalogue: Catalogue,
    reader: dict[str, str],
    store_sessions: sessionmaker[Session],
) -> None:
    url = catalogue.url("cox-space")
    forced = client.post(
        f"{PREFIX}/tracklist", json={"url": url, "force_refresh": True}, headers=reader
    )
    assert forced.status_code == 202
    assert forced.json["tracklist"] is None
    # A stored tracklist older than the maximum age is refreshed too.
    stale_id = store_page(
        store_sessions, page(uuid.uuid4().hex[:10], [("Old", "old")], None, "2001-01-01")
    )
    with session_scope(store_sessions) as session:
        session.execute(
            update(Tracklist)
            .where(Tracklist.id == stale_id)
            .values(scraped_at=utcnow() - timedelta(hours=25))
        )
    stale = client.post(f"{PREFIX}/tracklist", json={"tracklist_id": str(stale_id)}, headers=reader)
    assert stale.status_code == 202
    assert client.get(stale.json["status_url"]).json["url"].endswith("-set.html")


def test_correlation_ids_are_the_callers(client: FlaskClient, reader: dict[str, str]) -> None:
    mine = str(uuid.uuid4())
    url = _unknown_url()
    first = client.post(
        f"{PREFIX}/tracklist", json={"url": url, "correlation_id": mine}, headers=reader
    )
    assert (first.status_code, first.json["correlation_id"]) == (202, mine)
    retried = client.post(
        f"{PREFIX}/tracklist", json={"url": url, "correlation_id": mine}, headers=reader
    )
    assert (retried.status_code, retried.json["correlation_id"]) == (202, mine)
    other = client.post(
        f"{PREFIX}/tracklist", json={"url": _unknown_url(), "correlation_id": mine}, headers=reader
    )
    assert other.status_code == 409
    assert client.get(f"{PREFIX}/tracklist/status/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/tracklist/abc/x.html"}, "url"),
        ({"url": "https://evil.example/tracklist/abc/x.html"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "https://user@www.1001tracklists.com/tracklist/abc/x.html"}, "url"),
        ({"url": f"{SITE}/dj/carlcox/index.html"}, "url"),
        ({}, "url"),
        ({"url": f"{SITE}/tracklist/a/b.html", "tracklist_id": str(uuid.uuid4())}, "url"),
        ({"tracklist_id": "not-a-uuid"}, "tracklist_id"),
        ({"url": f"{SITE}/tracklist/a/b.html", "force_refresh": "maybe"}, "force_refresh"),
    ],
)
def test_bad_requests_name_the_field(
    client: FlaskClient, reader: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post(f"{PREFIX}/tracklist", json=body, headers=reader)
    assert response.status_code == 422, response.json
    assert [error["field"] for error in response.json["errors"]] == [field]


def test_crawl_requests_need_a_token_unless_configured(
    client: FlaskClient, api_settings: Settings
) -> None:
    body = {"url": _unknown_url()}
    assert client.post(f"{PREFIX}/tracklist", json=body).status_code == 401
    open_app = create_app(api_settings, api_crawl_requires_auth=False)
    assert open_app.test_client().post(f"{PREFIX}/tracklist", json=body).status_code == 202


def test_tracklist_cache_hit_then_invalidated_by_a_change(
    client: FlaskClient,
    store_sessions: sessionmaker[Session],
    login: Callable[[str], dict[str, Any]],
) -> None:
    parsed = page(uuid.uuid4().hex[:10], [("Cache Twin", "cachetwin")], None, "2024-01-01")
    tracklist_id = store_page(store_sessions, parsed)
    path = f"{PREFIX}/tracklist/{tracklist_id}"
    assert client.get(path).headers["X-Cache"] == "MISS"
    hit = client.get(path)
    assert (hit.headers["X-Cache"], hit.json["title"]) == ("HIT", parsed.title)
    # A re-crawl finds the page changed: version 2, served at once.
    store_page(store_sessions, changed(parsed, "Cache Twin @ Somewhere Else"))
    fresh = client.get(path)
    assert fresh.headers["X-Cache"] == "MISS"
    assert (fresh.json["title"], fresh.json["metadata"]["version"]) == (
        "Cache Twin @ Somewhere Else",
        2,
    )
    assert client.get(path).headers["X-Cache"] == "HIT"
    # DELETE /tracklist/cache (editor) empties it.
    reader = bearer(login("reader")["access_token"])
    assert client.delete(f"{PREFIX}/tracklist/cache", headers=reader).status_code == 403
    editor = bearer(login("editor")["access_token"])
    cleared = client.delete(f"{PREFIX}/tracklist/cache", headers=editor)
    assert cleared.status_code == 200
    assert cleared.json["deleted"] >= 2
    assert client.get(path).headers["X-Cache"] == "MISS"
    stats = client.get(f"{PREFIX}/admin/stats", headers=bearer(login("admin")["access_token"]))
    assert stats.json["cache"]["tracklist"] == {"hits": 2, "misses": 3, "hit_rate": 0.4}


def test_a_hot_response_is_served_from_the_process_for_a_moment(
    api_settings: Settings,
    store_sessions: sessionmaker[Session],
    redis_server: redis.Redis,
    login: Callable[[str], dict[str, Any]],
) -> None:
    app = create_app(api_settings, cache_stamp_seconds=30)
    client = app.test_client()
    parsed = page(uuid.uuid4().hex[:10], [("Near Twin", "neartwin")], None, "2024-01-01")
    path = f"{PREFIX}/tracklist/{store_page(store_sessions, parsed)}"
    assert client.get(path).headers["X-Cache"] == "MISS"
    cached_keys = list(
        redis_server.scan_iter(match=f"{api_settings.cache_key_prefix}cache:tracklist:*")
    )
    assert len(cached_keys) == 1
    # Gone from Redis behind the API's back: the process still has the body it stored.
    redis_server.delete(*cached_keys)
    for _ in range(3):
        assert client.get(path).headers["X-Cache"] == "HIT"
    # Hits served by the process count like any other in /admin/stats.
    admin = bearer(login("admin")["access_token"])
    stats = client.get(f"{PREFIX}/admin/stats", headers=admin).json["cache"]["tracklist"]
    assert (stats["hits"], stats["misses"]) == (3, 1)
    # Clearing the cache clears the process's copies too.
    editor = bearer(login("editor")["access_token"])
    assert client.delete(f"{PREFIX}/tracklist/cache", headers=editor).status_code == 200
    assert client.get(path).headers["X-Cache"] == "MISS"


def test_each_process_trusts_a_stamp_for_a_moment(
    api_settings: Settings, store_sessions: sessionmaker[Session]
) -> None:
    client = create_app(api_settings, cache_stamp_seconds=0.5).test_client()
    parsed = page(uuid.uuid4().hex[:10], [("Stamp Twin", "stamptwin")], None, "2024-01-01")
    path = f"{PREFIX}/tracklist/{store_page(store_sessions, parsed)}"
    assert client.get(path).headers["X-Cache"] == "MISS"
    store_page(store_sessions, changed(parsed, "Stamp Twin, changed"))
    stale = client.get(path)  # within the moment: the version read before the change
    assert (stale.headers["X-Cache"], stale.json["title"]) == ("HIT", parsed.title)
    time.sleep(0.6)
    assert client.get(path).json["title"] == "Stamp Twin, changed"

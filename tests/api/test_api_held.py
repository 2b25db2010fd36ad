"""A held first crawl (cut short) is served nowhere until an editor accepts it; status shows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from api_data import page
from api_helpers import PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem, TracklistRefused
from pipelines.persist import store_tracklist
from pipelines.refusals import record_refusal
from store.db import run_transaction

Login = Callable[[str], dict[str, Any]]


def _held_first_crawl(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, str]:
    token = uuid.uuid4().hex[:8]
    dj_slug = f"heldjay{token}"
    parsed = page(f"held{token}", [(f"Held Jay {token}", dj_slug)], None, "2024-02-02")
    # The page declares 30 rows and shows 4: cut short.
    parsed = replace(parsed, declared_row_count=30, parsed_row_count=len(parsed.entries))
    item = TracklistItem(
        page=parsed,
        fetched_url=parsed.url or "",
        html_sha256="h" * 64,
        fetched_at=datetime.now(UTC),
    )
    result = run_transaction(sessions, lambda session: store_tracklist(session, item))
    assert result.outcome == "held"
    return result.tracklist_id, dj_slug


def test_a_held_first_crawl_is_served_nowhere_until_accepted(
    client: FlaskClient, store_sessions: sessionmaker[Session], login: Login
) -> None:
    tracklist_id, dj_slug = _held_first_crawl(store_sessions)
    reader = bearer(login("reader")["access_token"])
    editor = bearer(login("editor")["access_token"])
    assert client.get(f"{PREFIX}/tracklist/{tracklist_id}").status_code == 404
    assert client.get(f"{PREFIX}/search/dj/{dj_slug}").json["total"] == 0
    generated = client.post(
        f"{PREFIX}/cue/generate", json={"tracklist_id": str(tracklist_id)}, headers=reader
    )
    assert generated.status_code == 404

    review = client.get(f"{PREFIX}/tracklist/conflicts?kind=short_page", headers=editor).json
    held = [c for c in review["conflicts"] if c["tracklist_id"] == str(tracklist_id)]
    assert len(held) == 1
    assert (held[0]["kind"], held[0]["edit_version"], held[0]["diff_url"]) == (
        "short_page",
        0,
        None,
    )
    assert held[0]["reason"] == "the page declares 30 rows but 4 were read"
    accepted = client.post(
        f"{PREFIX}/tracklist/{tracklist_id}/conflicts/{held[0]['id']}/resolve",
        json={"action": "accept"},
        headers=editor,
    )
    assert accepted.status_code == 200, accepted.json
    served = client.get(f"{PREFIX}/tracklist/{tracklist_id}")
    assert served.status_code == 200
    assert served.json["metadata"]["status"] == "active"
    assert len(served.json["tracks"]) == 4
    assert client.get(f"{PREFIX}/search/dj/{dj_slug}").json["total"] == 1


def test_the_review_list_is_for_editors(client: FlaskClient, login: Login) -> None:
    reader = bearer(login("reader")["access_token"])
    assert client.get(f"{PREFIX}/tracklist/conflicts", headers=reader).status_code == 403


def test_the_review_list_refuses_an_unknown_kind(client: FlaskClient, login: Login) -> None:
    editor = bearer(login("editor")["access_token"])
    refused = client.get(f"{PREFIX}/tracklist/conflicts?kind=bogus", headers=editor)
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"


def test_a_gone_tracklist_is_still_served_with_its_status(
    client: FlaskClient, store_sessions: sessionmaker[Session]
) -> None:
    token = uuid.uuid4().hex[:8]
    parsed = page(f"gone{token}", [(f"Gone Jay {token}", f"gonejay{token}")], None, "2024-03-03")
    item = TracklistItem(
        page=parsed,
        fetched_url=parsed.url or "",
        html_sha256="g" * 64,
        fetched_at=datetime.now(UTC),
    )
    stored = run_transaction(store_sessions, lambda session: store_tracklist(session, item))
    assert parsed.url is not None
    refused = TracklistRefused(parsed.url, "gone", "HTTP 410")
    run_transaction(store_sessions, lambda session: record_refusal(session, refused))
    served = client.get(f"{PREFIX}/tracklist/{stored.tracklist_id}")
    assert served.status_code == 200
    assert (served.json["status"], served.json["metadata"]["status"]) == ("gone", "gone")
    found = client.get(f"{PREFIX}/search/dj/gonejay{token}").json
    assert [(r["id"], r["status"]) for r in found["results"]] == [
        (str(stored.tracklist_id), "gone")
    ]

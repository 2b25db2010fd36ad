"""Who-played-what endpoints on the shared API database (tracks and DJs unique per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_data import entry, page, store_page
from api_helpers import PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Track


@pytest.fixture
def played(store_sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Two DJs (one b2b set together) and three tracks with names of this test's own."""
    token = uuid.uuid4().hex[:8]
    one, two = f"One {token}", f"Two {token}"
    rows = (entry(1, "Artist", one, 0), entry(2, "Artist", two, 60_000))
    cox, beyer = (f"Cox {token}", f"cox{token}"), (f"Beyer {token}", f"beyer{token}")
    store_page(store_sessions, page(f"{token}a", [cox], None, "2024-01-01", rows))
    store_page(store_sessions, page(f"{token}b", [cox, beyer], None, "2022-02-02", rows[:1]))
    store_page(store_sessions, page(f"{token}c", [beyer], None, "2023-03-03", rows[1:]))
    with store_sessions() as session:
        ids = dict(
            session.execute(select(Track.title, Track.id).where(Track.title.in_([one, two]))).all()
        )
    return {"one": ids[one], "two": ids[two], "cox": cox[1], "beyer": beyer[1], "names": (one, two)}


@pytest.fixture
def reader(login: Callable[[str], dict[str, Any]]) -> dict[str, str]:
    return bearer(login("reader")["access_token"])


def test_a_tracks_plays(
    client: FlaskClient, played: dict[str, Any], reader: dict[str, str]
) -> None:
    response = client.get(f"{PREFIX}/tracks/{played['one']}/plays?limit=1", headers=reader)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["track"]["title"] == played["names"][0]
    assert (body["play_count"], body["set_count"], body["pages"]) == (2, 2, 2)
    assert body["first_play"]["set_date"] == "2022-02-02"
    assert [dj["slug"] for dj in body["first_play"]["djs"]] == [played["cox"], played["beyer"]]
    [newest] = body["plays"]
    assert (newest["set_date"], newest["row"], newest["position"]) == ("2024-01-01", 1, 1)
    second = client.get(f"{PREFIX}/tracks/{played['one']}/plays?limit=1&page=2", headers=reader)
    assert second.json["plays"][0]["set_date"] == "2022-02-02"


def test_a_djs_top_tracks_and_shared_tracks(
    client: FlaskClient, played: dict[str, Any], reader: dict[str, str]
) -> None:
    top = client.get(f"{PREFIX}/djs/{played['cox']}/top-tracks", headers=reader)
    assert top.status_code == 200, top.json
    assert top.json["dj"]["slug"] == played["cox"]
    assert [(t["track"]["id"], t["plays"], t["sets"]) for t in top.json["tracks"]] == [
        (played["one"], 2, 2),
        (played["two"], 1, 1),
    ]
    shared = client.get(f"{PREFIX}/djs/{played['cox']}/shared/{played['beyer']}", headers=reader)
    assert shared.status_code == 200, shared.json
    assert shared.json["total"] == 2
    assert [(t["track"]["id"], t["plays_a"], t["plays_b"]) for t in shared.json["tracks"]] == [
        (played["one"], 2, 1),
        (played["two"], 1, 1),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/tracks/999999999/plays",
        "/djs/nobody-at-all/top-tracks",
        "/djs/nobody-at-all/shared/nobody-either",
        "/djs/%01/top-tracks",
    ],
)
def test_unknown_tracks_and_djs_are_404(
    client: FlaskClient, reader: dict[str, str], path: str
) -> None:
    response = client.get(PREFIX + path, headers=reader)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_bad_paging_is_422_and_no_token_is_401(
    client: FlaskClient, played: dict[str, Any], reader: dict[str, str]
) -> None:
    path = f"{PREFIX}/tracks/{played['one']}/plays"
    assert client.get(path + "?limit=0", headers=reader).status_code == 422
    assert client.get(path).status_code == 401


def test_the_openapi_document_describes_them(client: FlaskClient) -> None:
    paths = client.get(f"{PREFIX}/openapi.json").json["paths"]
    for path in (
        f"{PREFIX}/tracks/{{track_id}}/plays",
        f"{PREFIX}/djs/{{dj_slug}}/top-tracks",
        f"{PREFIX}/djs/{{dj_slug}}/shared/{{other_slug}}",
    ):
        assert "get" in paths[path], path
        assert "200" in paths[path]["get"]["responses"]

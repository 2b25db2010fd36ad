"""Versions, diffs and rollback through the API; a publish is served at once despite caching."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PREFIX, bearer
from edit_helpers import edit_body, events_of, fresh_set, recrawl, start_draft, url
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from config.settings import Settings

Login = Callable[[str], dict[str, Any]]


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return bearer(login("editor")["access_token"])


def _publish(
    client: FlaskClient, tracklist_id: uuid.UUID, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    draft = start_draft(client, tracklist_id, headers)
    body = edit_body(draft["document"])
    entries = changes.pop("entries", None)
    if entries is not None:
        body["entries"] = entries(body["entries"])
    body.update(changes)
    edited = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=headers)
    assert edited.status_code == 200, edited.json
    published = client.post(url(tracklist_id, "drafts", draft["id"], "publish"), headers=headers)
    assert published.status_code == 201, published.json
    version: dict[str, Any] = published.json
    return version


def _fill_id_and_drop_w(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows[3].update(artist="Charlotte de Witte", title="Doppler")
    del rows[2]
    rows.append(
        {"position": 4, "cue_ms": 4_000_000, "artist": "Amelie Lens", "title": "In My Mind"}
    )
    return rows


def test_versions_list_and_diff_show_what_an_edit_changed(
    client: FlaskClient, login: Login, store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    _publish(
        client,
        tracklist_id,
        bearer(login("editor")["access_token"]),
        title="Renamed",
        genres=["Techno", "Peak Time"],
        entries=_fill_id_and_drop_w,
    )
    reader = bearer(login("reader")["access_token"])  # readers see history and diffs
    listed = client.get(url(tracklist_id, "versions"), headers=reader).json
    assert [(v["version"], v["origin"], v["current"]) for v in listed["versions"]] == [
        (2, "edit", True),
        (1, "crawl", False),
    ]
    assert listed["versions"][0]["track_count"] == 4
    first = client.get(url(tracklist_id, "versions", 1), headers=reader).json
    assert first["document"]["entries"][3]["is_id"] is True
    assert first["document"]["djs"] == ["Edit Tester"]
    changes = client.get(url(tracklist_id, "diff"), query_string={"from": 1}, headers=reader).json
    assert (changes["from_version"], changes["to_version"]) == (1, 2)
    assert changes["metadata"] == [
        {"field": "title", "from": first["document"]["title"], "to": "Renamed"},
        {"field": "genres", "from": ["Techno"], "to": ["Techno", "Peak Time"]},
    ]
    summary = [(c["change"], c["from_row"], c["to_row"], c["fields"]) for c in changes["entries"]]
    assert summary == [
        ("removed", 3, None, []),
        ("changed", 4, 3, ["artist", "title", "is_id"]),
        ("added", None, 4, []),
    ]
    assert changes["entries"][1]["after"]["title"] == "Doppler"
    same = client.get(
        url(tracklist_id, "diff"), query_string={"from": 2, "to": 2}, headers=reader
    ).json
    assert (same["metadata"], same["entries"]) == ([], [])


def test_rollback_publishes_the_old_document_as_a_new_version(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, parsed = fresh_set(store_sessions)
    original = client.get(f"{PREFIX}/tracklist/{tracklist_id}").json
    _publish(client, tracklist_id, editor, title="Wrong fix", entries=_fill_id_and_drop_w)
    rolled = client.post(
        url(tracklist_id, "rollback"), json={"version": 1, "reason": "bad fix"}, headers=editor
    )
    assert rolled.status_code == 201, rolled.json
    assert (rolled.json["version"], rolled.json["origin"], rolled.json["base_version"]) == (
        3,
        "rollback",
        1,
    )
    assert rolled.json["reason"] == "bad fix"
    restored = client.get(f"{PREFIX}/tracklist/{tracklist_id}").json
    assert (restored["title"], restored["tracks"]) == (original["title"], original["tracks"])
    assert restored["metadata"]["version"] == 3
    assert [e["origin"] for e in events_of(store_sessions, tracklist_id, "tracklist.updated")] == [
        "edit",
        "rollback",
    ]
    again = client.post(url(tracklist_id, "rollback"), json={"version": 1}, headers=editor)
    assert again.status_code == 409  # version 3 already has version 1's document
    # A rollback is a human version too: a changed page is held back, then can't be rolled to.
    recrawl(store_sessions, parsed, title="Site changed it")
    held = client.post(url(tracklist_id, "rollback"), json={"version": 4}, headers=editor)
    assert held.status_code == 409
    assert "never published" in held.json["detail"]
    assert client.get(f"{PREFIX}/tracklist/{tracklist_id}").json["title"] == original["title"]


def test_missing_versions_are_404(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    nowhere = uuid.uuid4()
    assert client.get(url(nowhere, "versions"), headers=editor).status_code == 404
    assert client.get(url(tracklist_id, "versions", 9), headers=editor).status_code == 404
    assert client.get(url(nowhere, "versions", 1), headers=editor).status_code == 404
    for query in ({"from": 9}, {"from": 1, "to": 9}):
        response = client.get(url(tracklist_id, "diff"), query_string=query, headers=editor)
        assert response.status_code == 404
    assert (
        client.get(url(nowhere, "diff"), query_string={"from": 1}, headers=editor).status_code
        == 404
    )
    missing = client.get(url(tracklist_id, "diff"), headers=editor)
    assert (missing.status_code, missing.json["errors"][0]["field"]) == (422, "from")
    rollback = client.post(url(tracklist_id, "rollback"), json={"version": 9}, headers=editor)
    assert rollback.status_code == 404
    assert (
        client.post(url(nowhere, "rollback"), json={"version": 1}, headers=editor).status_code
        == 404
    )


def test_readers_cannot_roll_back_and_anonymous_see_nothing(
    client: FlaskClient, login: Login, store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    reader = bearer(login("reader")["access_token"])
    rollback = client.post(url(tracklist_id, "rollback"), json={"version": 1}, headers=reader)
    assert rollback.status_code == 403
    assert client.get(url(tracklist_id, "versions")).status_code == 401
    assert client.get(url(tracklist_id, "diff"), query_string={"from": 1}).status_code == 401


def test_a_publish_is_served_at_once_though_stamps_are_remembered(
    api_settings: Settings, login: Login, store_sessions: sessionmaker[Session]
) -> None:
    app = create_app(api_settings, cache_stamp_seconds=60)  # stamps kept for a minute
    client = app.test_client()
    tracklist_id, _ = fresh_set(store_sessions)
    assert client.get(f"{PREFIX}/tracklist/{tracklist_id}").headers["X-Cache"] == "MISS"
    assert client.get(f"{PREFIX}/tracklist/{tracklist_id}").headers["X-Cache"] == "HIT"
    _publish(client, tracklist_id, bearer(login("editor")["access_token"]), title="Fresh")
    served = client.get(f"{PREFIX}/tracklist/{tracklist_id}")
    assert (served.headers["X-Cache"], served.json["title"]) == ("MISS", "Fresh")

"""Drafts through the API on PostgreSQL: edit, validation (422 naming rows), publish, 409s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PREFIX, bearer
from edit_helpers import edit_body, events_of, fresh_set, start_draft, url
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Track, TracklistEntry

Login = Callable[[str], dict[str, Any]]


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return bearer(login("editor")["access_token"])


def _fields(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    return {error["field"]: error["message"] for error in response.json["errors"]}


def test_an_editor_corrects_a_set_and_publishes_it(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, editor, reason="fill in the ID")
    assert (draft["base_version"], draft["status"], draft["problems"]) == (1, "open", [])
    assert draft["author"].startswith("editor-")
    entries = edit_body(draft["document"])["entries"]
    entries[3].update(artist="Charlotte de Witte", title="Doppler")  # the ID row
    entries[0], entries[1] = entries[1], entries[0]  # reordered, renumbered, cues fixed
    entries[0].update(position=1, cue_ms=0)
    entries[1].update(position=2, cue_ms=190_000)
    del entries[2]  # the "w/" row removed
    entries.append(
        {"position": 4, "cue_ms": 4_000_000, "artist": "Amelie Lens", "title": "Hypnotized"}
    )
    body = edit_body(draft["document"], title="Edit Tester (corrected)", date="2024-05-02")
    body["entries"] = entries
    edited = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    assert edited.status_code == 200, edited.json
    assert [e["title"] for e in edited.json["document"]["entries"]] == [
        "Your Mind",
        "The Revolution Continues",
        "Doppler",
        "Hypnotized",
    ]
    assert edited.json["document"]["entries"][2]["is_id"] is False

    published = client.post(
        url(tracklist_id, "drafts", draft["id"], "publish"), json={}, headers=editor
    )
    assert published.status_code == 201, published.json
    version = published.json
    assert (version["version"], version["origin"], version["current"]) == (2, "edit", True)
    assert (version["author"], version["reason"]) == (draft["author"], "fill in the ID")
    assert version["base_version"] == 1
    assert published.headers["Location"].endswith(f"/{tracklist_id}/versions/2")

    served = client.get(f"{PREFIX}/tracklist/{tracklist_id}").json
    assert (served["title"], served["date"], served["metadata"]["version"]) == (
        "Edit Tester (corrected)",
        "2024-05-02",
        2,
    )
    assert [t["title"] for t in served["tracks"]] == [e["title"] for e in entries]
    assert served["tracks"][1]["timestamp"]["timestamp_ms"] == 190_000
    with store_sessions() as session:  # the filled-in ID row now plays a catalogue track
        doppler = session.scalars(
            select(Track.title)
            .join(TracklistEntry, TracklistEntry.track_id == Track.id)
            .where(TracklistEntry.tracklist_id == tracklist_id, TracklistEntry.row == 3)
        ).one()
    assert doppler == "Doppler"
    [event] = events_of(store_sessions, tracklist_id, "tracklist.updated")
    assert (event["version"], event["origin"], event["track_count"]) == (2, "edit", 4)
    assert (
        client.get(url(tracklist_id, "drafts", draft["id"]), headers=editor).json["status"]
        == "published"
    )


def test_rule_breaking_drafts_are_refused_naming_row_and_field(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, editor)
    target = url(tracklist_id, "drafts", draft["id"])
    body = edit_body(draft["document"])
    rows = body["entries"]
    rows[0]["artist"] = "   "
    rows[1]["cue_ms"] = 4_000_000  # after row 4's 1:02:05
    rows[2]["position"] = 2  # the "w/" row
    rows.append({**rows[1], "position": 4})  # row 2 entered again
    assert _fields(client.put(target, json=body, headers=editor)) == {
        "entries.0.artist": "row 1: the artist must not be blank ('ID' for an unknown track)",
        "entries.2.position": "row 3: a row played with the previous one ('w/') has none",
        "entries.3.cue_ms": "row 4: cue 1:02:05 is before row 2's 1:06:40",
        "entries.4.title": "row 5: repeats row 2 (the same track at the same cue)",
    }
    missing = _fields(client.put(target, json={"entries": []}, headers=editor))
    assert {"title", "date", "genres", "entries"} <= set(missing)
    # Nothing was saved: the draft still has the crawled rows.
    assert client.get(target, headers=editor).json["document"] == draft["document"]


@pytest.mark.parametrize(
    ("index", "change", "field", "message"),
    [
        (
            0,
            {"played_with_previous": True, "position": None},
            "entries.0.played_with_previous",
            "no previous row",
        ),
        (0, {"position": None}, "entries.0.position", "needs its position"),
        (1, {"position": 1}, "entries.1.position", "1 must be greater than row 1's 1"),
        (
            1,
            {
                "artist": "Carl Cox",
                "title": "The Revolution Continues",
                "version": "Original Mix",
                "cue_ms": 0,
            },
            "entries.1.title",
            "repeats row 1 (the same track twice in a row)",
        ),
        (3, {"title": "Still Unknown"}, None, None),  # an "ID - x" row is fine
    ],
)
def test_row_rules_one_by_one(
    client: FlaskClient,
    editor: dict[str, str],
    store_sessions: sessionmaker[Session],
    index: int,
    change: dict[str, Any],
    field: str | None,
    message: str | None,
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, editor)
    body = edit_body(draft["document"])
    body["entries"][index].update(change)
    response = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    if field is None:
        assert response.status_code == 200, response.json
        assert response.json["document"]["entries"][index]["is_id"] is True
    else:
        assert message in _fields(response)[field]


def test_a_stale_draft_is_refused_and_a_second_publish_too(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    first = start_draft(client, tracklist_id, editor)
    second = start_draft(client, tracklist_id, editor)
    for draft, title in ((first, "First fix"), (second, "Second fix")):
        body = edit_body(draft["document"], title=title)
        target = url(tracklist_id, "drafts", draft["id"])
        assert client.put(target, json=body, headers=editor).status_code == 200
    publish = url(tracklist_id, "drafts", first["id"], "publish")
    assert client.post(publish, json={}, headers=editor).status_code == 201
    again = client.post(publish, json={}, headers=editor)
    assert again.status_code == 409
    assert "published, no longer open" in again.json["detail"]
    stale = client.post(url(tracklist_id, "drafts", second["id"], "publish"), headers=editor)
    assert stale.status_code == 409
    assert stale.json["type"] == "urn:tracklists:problem:conflict"
    assert "based on version 1 but the current version is 2" in stale.json["detail"]
    assert client.get(f"{PREFIX}/tracklist/{tracklist_id}").json["title"] == "First fix"


def test_unchanged_discarded_and_foreign_drafts(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    other_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, editor)
    publish = url(tracklist_id, "drafts", draft["id"], "publish")
    unchanged = client.post(publish, json={}, headers=editor)
    assert unchanged.status_code == 409
    assert "changes nothing" in unchanged.json["detail"]
    foreign = url(other_id, "drafts", draft["id"])
    assert client.get(foreign, headers=editor).status_code == 404
    discarded = client.delete(url(tracklist_id, "drafts", draft["id"]), headers=editor)
    assert discarded.json["status"] == "discarded"
    assert client.post(publish, json={}, headers=editor).status_code == 409
    body = edit_body(draft["document"], title="Too late")
    put = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    assert put.status_code == 409
    listed = client.get(
        url(tracklist_id, "drafts"), query_string={"status": "open"}, headers=editor
    )
    assert listed.json == {"drafts": []}
    every = client.get(url(tracklist_id, "drafts"), headers=editor).json["drafts"]
    assert [d["status"] for d in every] == ["discarded"]


def test_missing_things_are_404(client: FlaskClient, editor: dict[str, str]) -> None:
    nowhere = uuid.uuid4()
    assert client.get(url(nowhere, "drafts"), headers=editor).status_code == 404
    created = client.post(url(nowhere, "drafts"), json={}, headers=editor)
    assert created.status_code == 404
    assert created.content_type == "application/problem+json"
    draft_url = url(nowhere, "drafts", uuid.uuid4())
    assert client.get(draft_url, headers=editor).status_code == 404
    assert client.post(f"{draft_url}/publish", json={}, headers=editor).status_code == 404
    assert client.delete(draft_url, headers=editor).status_code == 404


def test_a_draft_from_a_missing_version_is_404(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    response = client.post(url(tracklist_id, "drafts"), json={"from_version": 9}, headers=editor)
    assert response.status_code == 404
    assert "has no version 9" in response.json["detail"]


def test_readers_and_anonymous_cannot_touch_drafts(
    client: FlaskClient, login: Login, store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    reader = bearer(login("reader")["access_token"])
    for headers, status in ((reader, 403), ({}, 401)):
        assert client.post(url(tracklist_id, "drafts"), json={}, headers=headers).status_code == (
            status
        )
        assert client.get(url(tracklist_id, "drafts"), headers=headers).status_code == status

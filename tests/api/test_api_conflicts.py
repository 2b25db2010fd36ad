"""A re-crawl never silently overwrites a published edit: conflicts, kept, accepted, merged."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PREFIX, bearer
from edit_helpers import edit_body, fresh_set, recrawl, start_draft, url
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from crawler.pages.types import TracklistPage

Login = Callable[[str], dict[str, Any]]


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return bearer(login("editor")["access_token"])


def _publish_edit(
    client: FlaskClient, tracklist_id: uuid.UUID, headers: dict[str, str], title: str
) -> None:
    draft = start_draft(client, tracklist_id, headers)
    body = edit_body(draft["document"], title=title)
    assert client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=headers).json
    publish = url(tracklist_id, "drafts", draft["id"], "publish")
    assert client.post(publish, json={}, headers=headers).status_code == 201


def _conflicts(client: FlaskClient, tracklist_id: uuid.UUID, headers: dict[str, str]) -> list[Any]:
    response = client.get(url(tracklist_id, "conflicts"), headers=headers)
    assert response.status_code == 200, response.json
    found: list[Any] = response.json["conflicts"]
    return found


def _title(client: FlaskClient, tracklist_id: uuid.UUID) -> str:
    title: str = client.get(f"{PREFIX}/tracklist/{tracklist_id}").json["title"]
    return title


def _edited_and_conflicted(
    client: FlaskClient, sessions: sessionmaker[Session], headers: dict[str, str]
) -> tuple[uuid.UUID, TracklistPage, dict[str, Any]]:
    """A set with a published edit (version 2) and a changed re-crawl held (version 3)."""
    tracklist_id, parsed = fresh_set(sessions)
    _publish_edit(client, tracklist_id, headers, "Edited title")
    recrawl(sessions, parsed)  # the page as first crawled: nothing new, no conflict
    assert _conflicts(client, tracklist_id, headers) == []
    recrawl(sessions, parsed, title="Site changed it")
    [conflict] = _conflicts(client, tracklist_id, headers)
    return tracklist_id, parsed, conflict


def test_a_changed_page_is_held_back_as_an_open_conflict(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, parsed, conflict = _edited_and_conflicted(client, store_sessions, editor)
    assert (conflict["status"], conflict["edit_version"], conflict["crawl_version"]) == (
        "open",
        2,
        3,
    )
    assert _title(client, tracklist_id) == "Edited title"  # the edit is still what is served
    versions = client.get(url(tracklist_id, "versions"), headers=editor).json
    assert versions["current_version"] == 2
    assert [(v["version"], v["origin"], v["published"]) for v in versions["versions"]] == [
        (3, "crawl", False),
        (2, "edit", True),
        (1, "crawl", True),
    ]
    difference = client.get(conflict["diff_url"], headers=editor).json
    assert difference["metadata"] == [
        {"field": "title", "from": "Edited title", "to": "Site changed it"}
    ]
    recrawl(store_sessions, parsed, title="Site changed it")  # unchanged since: a no-op
    recrawl(store_sessions, parsed, title="Site changed it again")
    [still] = _conflicts(client, tracklist_id, editor)
    assert (still["id"], still["crawl_version"]) == (conflict["id"], 4)


def test_keep_dismisses_and_the_same_page_opens_nothing_new(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, parsed, conflict = _edited_and_conflicted(client, store_sessions, editor)
    resolve = url(tracklist_id, "conflicts", conflict["id"], "resolve")
    kept = client.post(resolve, json={"action": "keep"}, headers=editor)
    assert kept.status_code == 200, kept.json
    assert (kept.json["status"], kept.json["resolution_version"]) == ("kept", None)
    assert kept.json["resolved_by"].startswith("editor-")
    recrawl(store_sessions, parsed, title="Site changed it")
    assert [c["status"] for c in _conflicts(client, tracklist_id, editor)] == ["kept"]
    assert _title(client, tracklist_id) == "Edited title"
    twice = client.post(resolve, json={"action": "accept"}, headers=editor)
    assert twice.status_code == 409
    assert "already resolved (kept)" in twice.json["detail"]


def test_accept_publishes_the_crawl_and_later_crawls_publish_again(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, parsed, conflict = _edited_and_conflicted(client, store_sessions, editor)
    resolve = url(tracklist_id, "conflicts", conflict["id"], "resolve")
    accepted = client.post(resolve, json={"action": "accept"}, headers=editor)
    assert (accepted.json["status"], accepted.json["resolution_version"]) == ("accepted", 4)
    assert _title(client, tracklist_id) == "Site changed it"
    version = client.get(url(tracklist_id, "versions", 4), headers=editor).json
    assert (version["origin"], version["base_version"], version["current"]) == ("crawl", 3, True)
    recrawl(store_sessions, parsed, title="A crawl again")  # current is a crawl: as before
    assert _title(client, tracklist_id) == "A crawl again"
    assert [c["status"] for c in _conflicts(client, tracklist_id, editor)] == ["accepted"]


def test_merge_publishes_a_draft_made_from_the_crawl(
    client: FlaskClient, editor: dict[str, str], store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _, conflict = _edited_and_conflicted(client, store_sessions, editor)
    draft = start_draft(client, tracklist_id, editor, from_version=conflict["crawl_version"])
    assert (draft["base_version"], draft["document"]["title"]) == (2, "Site changed it")
    body = edit_body(draft["document"], title="Site changed it (merged)")
    client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    resolve = url(tracklist_id, "conflicts", conflict["id"], "resolve")
    no_draft = client.post(resolve, json={"action": "merge"}, headers=editor)
    assert no_draft.status_code == 422
    assert no_draft.json["errors"][0]["field"] == "draft_id"
    unknown = client.post(
        resolve, json={"action": "merge", "draft_id": str(uuid.uuid4())}, headers=editor
    )
    assert unknown.status_code == 404
    merged = client.post(
        resolve, json={"action": "merge", "draft_id": draft["id"], "reason": "both"}, headers=editor
    )
    assert (merged.json["status"], merged.json["resolution_version"]) == ("merged", 4)
    assert _title(client, tracklist_id) == "Site changed it (merged)"
    version = client.get(url(tracklist_id, "versions", 4), headers=editor).json
    assert (version["origin"], version["reason"]) == ("edit", "both")


def test_conflicts_404_and_auth(
    client: FlaskClient, login: Login, store_sessions: sessionmaker[Session]
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    reader = bearer(login("reader")["access_token"])
    assert _conflicts(client, tracklist_id, reader) == []  # readers may look
    assert client.get(url(uuid.uuid4(), "conflicts"), headers=reader).status_code == 404
    assert client.get(url(tracklist_id, "conflicts")).status_code == 401
    resolve = url(tracklist_id, "conflicts", uuid.uuid4(), "resolve")
    assert client.post(resolve, json={"action": "keep"}, headers=reader).status_code == 403
    editor = bearer(login("editor")["access_token"])
    assert client.post(resolve, json={"action": "keep"}, headers=editor).status_code == 404
    bad = client.post(resolve, json={"action": "ignore"}, headers=editor)
    assert (bad.status_code, bad.json["errors"][0]["field"]) == (422, "action")

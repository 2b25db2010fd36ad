"""Hostile input answers 400/422 naming the field, never 500 (issue 16), on PostgreSQL.

Each case was a 500 before ``api.input_guard``: RecursionError on deep JSON, psycopg's
DataError on NUL, UnicodeEncodeError on lone surrogates, ValueError on 5,000 digits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_helpers import PASSWORD, PREFIX, bearer
from edit_helpers import edit_body, fresh_set, start_draft, url
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from api.input_guard import (
    MAX_JSON_DEPTH,
    NOT_FINITE_MESSAGE,
    NUL_MESSAGE,
    SURROGATE_MESSAGE,
    TOO_LARGE_MESSAGE,
)
from config.settings import Settings

Login = Callable[[str], dict[str, Any]]
TOKEN = f"{PREFIX}/auth/token"
HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()


def _problem(response: Any, status: int) -> dict[str, str]:
    """The problem document's errors as {field: message}, after checking its shape."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.content_type == "application/problem+json"
    return {error["field"]: error["message"] for error in response.json["errors"]}


def _raw(client: FlaskClient, method: str, path: str, body: str, **kwargs: Any) -> Any:
    """Send ``body`` as it is: the test client's JSON encoder cannot write 5,000 digits."""
    return client.open(path, method=method, data=body, content_type="application/json", **kwargs)


@pytest.fixture
def editor(login: Login) -> dict[str, str]:
    return bearer(login("editor")["access_token"])


def test_json_nested_5000_deep_is_a_400_on_the_login(client: FlaskClient) -> None:
    response = _raw(client, "POST", TOKEN, "[" * 5000 + "]" * 5000)
    assert _problem(response, 400) == {"json": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}


def test_json_nested_past_the_limit_inside_a_field_names_it(client: FlaskClient) -> None:
    deep = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH  # with the object: one level too many
    response = _raw(client, "POST", TOKEN, f'{{"username": {deep}, "password": "x"}}')
    field = "username" + ".0" * (MAX_JSON_DEPTH - 1)  # the 64th list in username
    assert _problem(response, 400) == {field: f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}


def test_nesting_at_the_limit_reaches_the_schema(client: FlaskClient) -> None:
    deep = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = _raw(client, "POST", TOKEN, f'{{"username": {deep}, "password": "x"}}')
    assert _problem(response, 422) == {"username": "Not a valid string."}


@pytest.mark.parametrize(
    ("value", "message"), [("a\x00b", NUL_MESSAGE), ("a\ud800b", SURROGATE_MESSAGE)]
)
def test_nul_and_lone_surrogates_in_the_login_are_422(
    client: FlaskClient, value: str, message: str
) -> None:
    response = client.post(TOKEN, json={"username": value, "password": PASSWORD})
    assert _problem(response, 422) == {"username": message}
    response = client.post(TOKEN, json={"username": "someone", "password": value})
    assert _problem(response, 422) == {"password": message}


def test_hostile_keys_are_named_escaped(client: FlaskClient) -> None:
    response = client.post(TOKEN, json={"user\x00": "x", "password": PASSWORD})
    assert _problem(response, 422) == {"user\\x00": NUL_MESSAGE}


def test_bytes_that_are_not_utf8_are_a_400(client: FlaskClient) -> None:
    response = client.post(TOKEN, data=b'{"username": "\xff"}', content_type="application/json")
    assert _problem(response, 400) == {"json": "Invalid JSON body."}


@pytest.mark.parametrize(
    ("value", "message"), [("\x00", NUL_MESSAGE), ("\ud800", SURROGATE_MESSAGE)]
)
def test_a_draft_reason_is_checked(
    client: FlaskClient,
    editor: dict[str, str],
    store_sessions: sessionmaker[Session],
    value: str,
    message: str,
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    response = client.post(
        url(tracklist_id, "drafts"), json={"reason": f"why{value}"}, headers=editor
    )
    assert _problem(response, 422) == {"reason": message}
    draft = start_draft(client, tracklist_id, editor)
    publish = client.post(
        url(tracklist_id, "drafts", draft["id"], "publish"),
        json={"reason": value},
        headers=editor,
    )
    assert _problem(publish, 422) == {"reason": message}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body, bad: body.update(title=bad), "title"),
        (lambda body, bad: body.update(genres=["Techno", bad]), "genres.1"),
        (lambda body, bad: body["entries"][1].update(title=bad), "entries.1.title"),
        (
            lambda body, bad: body["entries"][0].update(mashup_parts=[bad]),
            "entries.0.mashup_parts.0",
        ),
        (lambda body, bad: body.update(reason=bad), "reason"),
    ],
)
@pytest.mark.parametrize(
    ("bad", "message"), [("T\x00", NUL_MESSAGE), ("T\udfff", SURROGATE_MESSAGE)]
)
def test_draft_titles_genres_and_entries_are_checked(
    client: FlaskClient,
    editor: dict[str, str],
    store_sessions: sessionmaker[Session],
    change: Callable[[dict[str, Any], str], None],
    field: str,
    bad: str,
    message: str,
) -> None:
    tracklist_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, editor)
    body = edit_body(draft["document"])
    change(body, bad)
    response = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    assert _problem(response, 422) == {field: message}
    # the draft is unchanged and still editable
    body = edit_body(draft["document"], title="Fixed")
    fixed = client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    assert fixed.status_code == 200, fixed.json


@pytest.fixture
def cue_app(api_settings: Settings, tmp_path: Path) -> Flask:
    (tmp_path / "media").mkdir()
    return create_app(api_settings, media_root=tmp_path / "media", storage_dir=tmp_path / "cue")


def test_cue_generation_checks_the_audio_path_and_the_version(cue_app: Flask, login: Login) -> None:
    client = cue_app.test_client()
    token = bearer(login("reader")["access_token"])
    generate = f"{PREFIX}/cue/generate"
    tracklist_id = str(uuid.uuid4())
    response = client.post(
        generate,
        json={"tracklist_id": tracklist_id, "audio_file_path": "sets/\ud800.wav"},
        headers=token,
    )
    assert _problem(response, 422) == {"audio_file_path": SURROGATE_MESSAGE}
    body = f'{{"tracklist_id": "{tracklist_id}", "version": {HUGE}}}'
    response = _raw(client, "POST", generate, body, headers=token)
    assert _problem(response, 422) == {"version": TOO_LARGE_MESSAGE}
    for number in (f"-{HUGE}", str(2**63), str(-(2**63))):
        body = f'{{"tracklist_id": "{tracklist_id}", "version": {number}}}'
        response = _raw(client, "POST", generate, body, headers=token)
        assert _problem(response, 422) == {"version": TOO_LARGE_MESSAGE}
    for constant in ("NaN", "Infinity", "1e999"):
        body = f'{{"tracklist_id": "{tracklist_id}", "version": {constant}}}'
        response = _raw(client, "POST", generate, body, headers=token)
        assert _problem(response, 422) == {"version": NOT_FINITE_MESSAGE}


def test_query_and_path_fields_are_checked(client: FlaskClient, login: Login) -> None:
    token = bearer(login("admin")["access_token"])
    response = client.get(f"{PREFIX}/search/?query=a%00b", headers=token)
    assert _problem(response, 422) == {"query": NUL_MESSAGE}
    response = client.get(f"{PREFIX}/search/?query=techno&page={HUGE}", headers=token)
    assert _problem(response, 422) == {"page": TOO_LARGE_MESSAGE}
    response = client.get(f"{PREFIX}/search/dj/sven%00vath", headers=token)
    assert _problem(response, 422) == {"dj_slug": NUL_MESSAGE}
    # a refused query string is not remembered as parsed: it is refused again
    response = client.get(f"{PREFIX}/search/?query=a%00b", headers=token)
    assert _problem(response, 422) == {"query": NUL_MESSAGE}
    # a long number is fine as text
    response = client.get(f"{PREFIX}/search/?query={'1' * 30}", headers=token)
    assert response.status_code == 200, response.json


def test_the_body_of_a_valid_login_is_unchanged(client: FlaskClient, make_user: Any) -> None:
    username = make_user("reader")
    body = json.dumps({"username": username, "password": PASSWORD})
    assert _raw(client, "POST", TOKEN, body).status_code == 200

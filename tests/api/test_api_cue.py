"""CUE generation: stored in the database and the storage folder, served as JSON or a file;
audio paths confined to the media root."""

from __future__ import annotations

import hashlib
import os
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_data import entry, page, store_page
from api_helpers import PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from config.settings import Settings
from store.models import CueFile

SAMPLE_RATE = 1500  # a multiple of 75: every CUE frame is a whole number of samples


@dataclass(frozen=True)
class Setup:
    client: FlaskClient
    token: dict[str, str]
    media: Path
    storage: Path
    tracklist_id: uuid.UUID
    url: str


def _wav(path: Path, seconds: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(SAMPLE_RATE)
        audio.writeframes(b"\x80" * SAMPLE_RATE * seconds)


@pytest.fixture
def setup(
    api_settings: Settings,
    tmp_path: Path,
    store_sessions: sessionmaker[Session],
    make_user: Callable[..., str],
    login: Callable[[str], dict[str, Any]],
) -> Setup:
    media, storage = tmp_path / "media", tmp_path / "storage"
    _wav(media / "sets" / "mix.wav", 180)
    parsed = page(
        uuid.uuid4().hex[:10],
        [("Sven Väth", "svenvath")],
        ("Time Warp", "time-warp"),
        "2024-04-06",
        entries=(
            entry(1, "Sven Väth", "L'Esperanza", 0),
            entry(2, "Ricardo Villalobos", "Dexter", 60_000, version="Original Mix"),
            entry(3, "ID", "ID", 120_000),
        ),
    )
    tracklist_id = store_page(store_sessions, parsed)
    app = create_app(api_settings, media_root=media, storage_dir=storage)
    token = bearer(login("reader")["access_token"])
    assert parsed.url is not None
    return Setup(app.test_client(), token, media, storage, tracklist_id, parsed.url)


def _generate(setup: Setup, **body: Any) -> Any:
    if "tracklist_url" not in body:
        body.setdefault("tracklist_id", str(setup.tracklist_id))
    return setup.client.post(f"{PREFIX}/cue/generate", json=body, headers=setup.token)


def test_generate_stores_the_file_and_the_row(
    setup: Setup, store_sessions: sessionmaker[Session]
) -> None:
    response = _generate(setup, format="standard")
    assert response.status_code == 201, response.json
    body = response.json
    data = body["cue_content"].encode()
    assert body["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert body["file_size"] == len(data)
    assert body["filename"].endswith("-set.cue")
    assert 'PERFORMER "Sven Väth"' in body["cue_content"]
    assert "INDEX 01 01:00:00" in body["cue_content"]
    assert any("row 3" in warning for warning in body["warnings"])  # the ID track is reported
    stored = list(setup.storage.iterdir())
    assert [path.read_bytes() for path in stored] == [data]
    with store_sessions() as session:
        row = session.scalars(select(CueFile).where(CueFile.id == uuid.UUID(body["id"]))).one()
    assert (row.content, row.checksum, row.tracklist_version) == (
        body["cue_content"],
        body["checksum"],
        1,
    )
    assert response.headers["Location"] == body["download_url"]


def test_get_as_json_or_as_the_file(setup: Setup) -> None:
    created = _generate(setup, format="standard", include_pregap=True).json
    path = f"{PREFIX}/cue/{created['id']}"
    as_json = setup.client.get(path)
    assert as_json.mimetype == "application/json"
    assert as_json.json["cue_content"] == created["cue_content"]
    assert "INDEX 00" in created["cue_content"]
    for download in (
        setup.client.get(f"{path}?download=1"),
        setup.client.get(path, headers={"Accept": "application/x-cue"}),
    ):
        assert download.status_code == 200
        assert download.mimetype == "application/x-cue"
        assert download.data == created["cue_content"].encode()
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment")
        assert created["filename"] in disposition
    prefers_json = setup.client.get(path, headers={"Accept": "application/json, */*;q=0.1"})
    assert prefers_json.mimetype == "application/json"
    # Served from the database: the storage folder is a copy, its loss loses nothing.
    for stored in setup.storage.iterdir():
        stored.unlink()
    after = setup.client.get(f"{path}?download=1")
    assert after.status_code == 200
    assert after.data == created["cue_content"].encode()
    assert setup.client.get(f"{PREFIX}/cue/{uuid.uuid4()}").status_code == 404


def test_every_format_by_url(setup: Setup) -> None:
    formats = setup.client.get(f"{PREFIX}/cue/formats").json["formats"]
    names = {found["name"]: found for found in formats}
    assert {"standard", "cd", "traktor", "rekordbox", "webvtt", "podcast"} <= set(names)
    for name, found in names.items():
        response = _generate(setup, format=name, tracklist_url=setup.url)
        assert response.status_code == 201, (name, response.json)
        download = setup.client.get(f"{response.json['download_url']}")
        assert download.mimetype == found["media_type"]
        assert download.headers["Content-Disposition"].endswith(found["suffix"])


def test_bad_requests(setup: Setup) -> None:
    unknown = _generate(setup, tracklist_id=str(uuid.uuid4()))
    assert unknown.status_code == 404
    assert "POST /tracklist" in unknown.json["detail"]
    wrong_format = _generate(setup, format="mp3")
    assert [error["field"] for error in wrong_format.json["errors"]] == ["format"]
    both = _generate(setup, tracklist_url=setup.url, tracklist_id=str(setup.tracklist_id))
    assert [error["field"] for error in both.json["errors"]] == ["tracklist_url"]
    anonymous = setup.client.post(
        f"{PREFIX}/cue/generate", json={"tracklist_id": str(setup.tracklist_id)}
    )
    assert anonymous.status_code == 401


def test_audio_file_under_the_media_root(setup: Setup) -> None:
    response = _generate(setup, audio_file_path="sets/mix.wav")
    assert response.status_code == 201, response.json
    assert 'FILE "mix.wav" WAVE' in response.json["cue_content"]
    absolute_inside = _generate(setup, audio_file_path=str(setup.media / "sets" / "mix.wav"))
    assert absolute_inside.status_code == 201


def _refused(setup: Setup, path: str) -> str:
    response = _generate(setup, audio_file_path=path)
    assert response.status_code == 422, response.json
    assert [error["field"] for error in response.json["errors"]] == ["audio_file_path"]
    message: str = response.json["errors"][0]["message"]
    return message


def test_paths_out_of_the_media_root_are_refused(setup: Setup, tmp_path: Path) -> None:
    outside = tmp_path / "outside.wav"
    _wav(outside, 180)
    os.symlink(outside, setup.media / "link.wav")
    os.symlink(tmp_path, setup.media / "escape")
    refused = [
        "../outside.wav",
        "sets/../../outside.wav",
        str(outside),
        "/etc/passwd",
        "link.wav",
        "escape/outside.wav",
        "sets/missing.wav",
        "sets",
    ]
    # One answer for all of them, and none holds a path.
    assert {_refused(setup, path) for path in refused} == {"no such file under the media root"}
    (setup.media / "notes.wav").write_text("not audio")
    assert _refused(setup, "notes.wav") == "not an audio file that can be read"


def test_no_existence_oracle_through_a_linked_folder(setup: Setup, tmp_path: Path) -> None:
    """An existing file and a missing one behind a link leading out answer byte for byte alike."""
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    os.symlink(outside, setup.media / "sets" / "etc-dir")
    answers = [
        _generate(setup, audio_file_path=path)
        for path in ("sets/etc-dir/passwd", "sets/etc-dir/no-such-file")
    ]
    assert [answer.status_code for answer in answers] == [422, 422]
    assert answers[0].get_data() == answers[1].get_data()
    assert str(tmp_path) not in answers[0].get_data(as_text=True)


def test_unreadable_audio_is_refused_without_its_path(setup: Setup) -> None:
    (setup.media / "sets" / "noise.flac").write_bytes(b"fLaC" + b"\x00" * 64)
    response = _generate(setup, audio_file_path="sets/noise.flac")
    assert response.status_code == 422
    assert str(setup.media) not in response.get_data(as_text=True)
    assert "noise.flac" not in response.get_data(as_text=True)


def test_audio_too_short_for_the_sheet_is_refused(setup: Setup) -> None:
    _wav(setup.media / "short.wav", 90)  # the last track starts at 2:00
    assert "does not fit the audio" in _refused(setup, "short.wav")


def test_without_a_media_root_audio_is_refused(api_settings: Settings, setup: Setup) -> None:
    client = create_app(api_settings).test_client()
    response = client.post(
        f"{PREFIX}/cue/generate",
        json={"tracklist_id": str(setup.tracklist_id), "audio_file_path": "sets/mix.wav"},
        headers=setup.token,
    )
    assert response.status_code == 422
    assert "TRACKLIST_MEDIA_ROOT" in response.json["errors"][0]["message"]

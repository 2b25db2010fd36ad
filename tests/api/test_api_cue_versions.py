"""CUE files say which tracklist version they came from, and older versions can be rendered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from api_helpers import PREFIX, bearer
from edit_helpers import edit_body, fresh_set, recrawl, start_draft, url
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from config.settings import Settings


def test_sheets_of_old_and_current_versions(
    api_settings: Settings,
    tmp_path: Path,
    store_sessions: sessionmaker[Session],
    login: Callable[[str], dict[str, Any]],
) -> None:
    client = create_app(api_settings, storage_dir=tmp_path / "cue").test_client()
    editor = bearer(login("editor")["access_token"])
    tracklist_id, parsed = fresh_set(store_sessions)

    def generate(**extra: Any) -> Any:
        body = {"tracklist_id": str(tracklist_id), "format": "standard", **extra}
        return client.post(f"{PREFIX}/cue/generate", json=body, headers=editor)

    old = generate().json
    assert old["tracklist_version"] == 1
    draft = start_draft(client, tracklist_id, editor)
    body = edit_body(draft["document"])
    body["entries"][3].update(artist="Charlotte de Witte", title="Doppler")
    client.put(url(tracklist_id, "drafts", draft["id"]), json=body, headers=editor)
    client.post(url(tracklist_id, "drafts", draft["id"], "publish"), headers=editor)

    current = generate().json
    assert current["tracklist_version"] == 2
    assert "Doppler" in current["cue_content"]
    kept = client.get(f"{PREFIX}/cue/{old['id']}").json  # the old file, as it was
    assert (kept["tracklist_version"], kept["cue_content"]) == (1, old["cue_content"])
    assert "Doppler" not in kept["cue_content"]
    again = generate(version=1)
    assert again.status_code == 201, again.json
    assert (again.json["tracklist_version"], again.json["cue_content"]) == (1, old["cue_content"])
    stored = client.get(f"{PREFIX}/cue/{again.json['id']}").json
    assert stored["tracklist_version"] == 1

    assert generate(version=9).status_code == 404
    recrawl(store_sessions, parsed, title="Changed on the site")  # held: version 3
    held = generate(version=3)
    assert held.status_code == 409
    assert "never published" in held.json["detail"]

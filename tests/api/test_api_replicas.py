"""API replicas are stateless: two apps on one database, each with its own storage folder.

What one replica made (a CUE file, a batch zip) downloads from the other byte for byte, and
a logout on one is honoured by the other. Rate limits shared by two apps are proved in
test_api_ratelimit.py (test_workers_share_counters_through_redis), and here for a replica that
started while Redis was down.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from api_data import page, store_page
from api_helpers import PASSWORD, PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from support.private_redis import PrivateRedis, redis_server_available

from api import create_app
from config.settings import Settings
from store.db import session_scope
from store.models import BatchJob


@dataclass(frozen=True)
class Replica:
    client: FlaskClient
    storage: Path


@pytest.fixture
def replicas(api_settings: Settings, tmp_path: Path) -> tuple[Replica, Replica]:
    """Two API apps on the same database and Redis, with storage folders of their own."""
    made = []
    for name in ("a", "b"):
        storage = tmp_path / f"storage-{name}"
        made.append(Replica(create_app(api_settings, storage_dir=storage).test_client(), storage))
    return made[0], made[1]


@pytest.fixture
def token(replicas: tuple[Replica, Replica], make_user: Callable[..., str]) -> dict[str, str]:
    """A reader's access token, issued by replica A."""
    username = make_user("reader")
    response = replicas[0].client.post(
        f"{PREFIX}/auth/token", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.json
    return bearer(response.json["access_token"])


def _stored(store_sessions: sessionmaker[Session], name: str) -> uuid.UUID:
    parsed = page(uuid.uuid4().hex[:10], [(name, name.lower())], None, "2024-04-06")
    return store_page(store_sessions, parsed)


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_a_cue_file_made_on_one_replica_downloads_from_the_other(
    replicas: tuple[Replica, Replica],
    token: dict[str, str],
    store_sessions: sessionmaker[Session],
) -> None:
    a, b = replicas
    tracklist_id = _stored(store_sessions, "Replicated")
    made = a.client.post(
        f"{PREFIX}/cue/generate",
        json={"tracklist_id": str(tracklist_id), "format": "standard"},
        headers=token,
    )
    assert made.status_code == 201, made.json
    written = a.storage / f"{made.json['id']}.cue"
    assert _files(a.storage) == [written.name]
    assert _files(b.storage) == []  # B never saw the file

    from_a = a.client.get(made.json["download_url"])
    from_b = b.client.get(made.json["download_url"])
    assert (from_a.status_code, from_b.status_code) == (200, 200)
    assert from_b.data == from_a.data == written.read_bytes()
    assert "sha256:" + hashlib.sha256(from_b.data).hexdigest() == made.json["checksum"]
    assert from_b.headers["ETag"] == from_a.headers["ETag"]
    assert from_b.headers["Content-Disposition"] == from_a.headers["Content-Disposition"]
    assert from_b.mimetype == "application/x-cue"
    # A conditional GET on B with A's ETag is answered 304: caches hold across replicas.
    cached = {"If-None-Match": from_a.headers["ETag"]}
    again = b.client.get(made.json["download_url"], headers=cached)
    assert again.status_code == 304
    # The folder is a copy: A serves the same bytes with its copy gone; nothing was written on B.
    written.unlink()
    assert a.client.get(made.json["download_url"]).data == from_b.data
    assert _files(b.storage) == []


def test_a_batch_zip_made_on_one_replica_downloads_from_the_other(
    replicas: tuple[Replica, Replica],
    token: dict[str, str],
    store_sessions: sessionmaker[Session],
) -> None:
    a, b = replicas
    inputs = [str(_stored(store_sessions, name)) for name in ("One", "Two", "Three")]
    made = a.client.post(
        f"{PREFIX}/batch/cue", json={"tracklists": inputs, "format": "standard"}, headers=token
    )
    assert made.status_code == 201, made.json
    assert made.json["done"] == 3
    local_copy = a.storage / f"batch-{made.json['id']}.zip"
    assert local_copy.is_file()
    assert _files(b.storage) == []

    from_a = a.client.get(made.json["download_url"], headers=token)
    from_b = b.client.get(made.json["download_url"], headers=token)
    assert (from_a.status_code, from_b.status_code) == (200, 200)
    assert from_b.data == from_a.data == local_copy.read_bytes()
    assert from_b.mimetype == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(from_b.data)).namelist()) == 3
    # Each member is a CUE file B serves too, byte for byte.
    members = zipfile.ZipFile(io.BytesIO(from_b.data))
    for item in made.json["items"]:
        cue_file = b.client.get(f"{PREFIX}/cue/{item['cue_id']}?download=1")
        assert cue_file.status_code == 200
        assert cue_file.data in {members.read(name) for name in members.namelist()}
    local_copy.unlink()
    assert a.client.get(made.json["download_url"], headers=token).data == from_b.data


def test_a_zip_from_before_migration_0012_is_served_from_its_local_copy_only(
    replicas: tuple[Replica, Replica],
    token: dict[str, str],
    store_sessions: sessionmaker[Session],
) -> None:
    a, b = replicas
    inputs = [str(_stored(store_sessions, "Legacy"))]
    made = a.client.post(f"{PREFIX}/batch/cue", json={"tracklists": inputs}, headers=token).json
    with session_scope(store_sessions) as session:  # as a job made before the zip was kept
        session.execute(
            update(BatchJob).where(BatchJob.id == uuid.UUID(made["id"])).values(archive=None)
        )
    local_copy = a.storage / f"batch-{made['id']}.zip"
    from_a = a.client.get(made["download_url"], headers=token)
    assert from_a.status_code == 200
    assert from_a.data == local_copy.read_bytes()
    lost = b.client.get(made["download_url"], headers=token)
    assert lost.status_code == 404
    assert "no longer in storage" in lost.json["detail"]


def test_a_logout_on_one_replica_is_honoured_by_the_other(
    replicas: tuple[Replica, Replica], token: dict[str, str]
) -> None:
    a, b = replicas
    assert b.client.get(f"{PREFIX}/auth/whoami", headers=token).status_code == 200
    assert a.client.post(f"{PREFIX}/auth/logout", headers=token).status_code == 204
    refused = b.client.get(f"{PREFIX}/auth/whoami", headers=token)
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"


def test_a_replica_started_while_redis_was_down_shares_its_state_once_redis_is_back(
    api_settings: Settings, tmp_path: Path, make_user: Callable[..., str]
) -> None:
    """Not a replica on its own for good: once Redis answers, one allowance across replicas."""
    redis_server_available()
    late = PrivateRedis()  # not started yet: Redis is down when replica B starts
    limit = 4
    settings = api_settings.model_copy(
        update={"redis_url": late.url, "api_rate_limit_authenticated": f"{limit}/hour"}
    )
    b = create_app(settings, storage_dir=tmp_path / "b").test_client()
    late.start()
    try:
        a = create_app(settings, storage_dir=tmp_path / "a").test_client()
        username = make_user("reader")
        issued = a.post(f"{PREFIX}/auth/token", json={"username": username, "password": PASSWORD})
        assert issued.status_code == 200, issued.json
        headers = bearer(issued.json["access_token"])
        answers = [
            replica.get(f"{PREFIX}/auth/whoami", headers=headers).status_code
            for replica in (a, b) * limit
        ]
        assert answers.count(200) == limit, answers  # B counted in Redis too, not on its own
        assert answers.count(429) == limit, answers
    finally:
        late.kill()

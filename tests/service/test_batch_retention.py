"""Pruning old batch jobs on both backends: rows, items and zips go; recent ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from service.batch_retention import prune_batches
from store.db import make_session_factory, session_scope
from store.models import BatchItem, BatchJob, utcnow

DAY = timedelta(days=1)


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


def _job(sessions: sessionmaker[Session], age: timedelta, zip_path: Path | None) -> uuid.UUID:
    job_id = uuid.uuid4()
    with session_scope(sessions) as session:
        session.add(
            BatchJob(
                id=job_id,
                kind="cue",
                format="standard",
                storage_path=None if zip_path is None else str(zip_path),
                created_at=utcnow() - age,
            )
        )
        session.flush()
        session.add(BatchItem(batch_id=job_id, position=1, input="x", status="failed"))
    return job_id


def _zip(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    return path


def test_old_jobs_go_with_their_items_and_zips(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    storage = tmp_path / "storage"
    old_zip, recent_zip = _zip(storage, "old.zip"), _zip(storage, "recent.zip")
    outside = _zip(tmp_path / "elsewhere", "not-ours.zip")
    _job(sessions, 40 * DAY, old_zip)
    _job(sessions, 40 * DAY, storage / "vanished.zip")  # its zip was deleted by hand
    _job(sessions, 40 * DAY, outside)
    _job(sessions, 40 * DAY, None)  # a crawl batch: no zip
    recent = _job(sessions, 2 * DAY, recent_zip)

    result = prune_batches(sessions, storage, 30 * DAY)

    assert (result.jobs, result.files_removed, result.files_missing) == (4, 1, 1)
    with sessions() as session:
        assert set(session.scalars(select(BatchJob.id))) == {recent}
        remaining = session.scalars(select(BatchItem.batch_id)).all()
        assert remaining == [recent]
        assert session.scalar(select(func.count()).select_from(BatchJob)) == 1
    assert not old_zip.exists()
    assert recent_zip.exists()
    assert outside.exists()  # outside the storage folder: never deleted


def test_nothing_old_prunes_nothing(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    recent_zip = _zip(tmp_path, "recent.zip")
    _job(sessions, timedelta(hours=1), recent_zip)
    result = prune_batches(sessions, tmp_path, DAY)
    assert (result.jobs, result.files_removed, result.files_missing) == (0, 0, 0)
    assert recent_zip.exists()

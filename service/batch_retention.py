"""Batch jobs are kept for a while, then pruned (``tracklists batch prune``): rows and zips.

A job older than the cut-off is deleted with its items; its zip archive is removed after the
transaction commits, so a prune that fails keeps every file of the jobs it kept. The CUE files
a batch recorded stay: they are ordinary CUE files (``GET /cue/{id}``), not the batch's own.
Only files under the storage folder are ever removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from store.db import session_scope
from store.models import BatchJob, utcnow


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a prune did: jobs deleted, zip files removed, and zips that were already gone."""

    jobs: int
    files_removed: int
    files_missing: int


def prune_batches(
    sessions: sessionmaker[Session],
    storage_dir: Path,
    older_than: timedelta,
    *,
    now: datetime | None = None,
) -> PruneResult:
    """Delete the batch jobs created more than ``older_than`` ago, then their zip files."""
    cutoff = (now or utcnow()) - older_than
    with session_scope(sessions) as session:
        old = list(
            session.execute(
                select(BatchJob.id, BatchJob.storage_path).where(BatchJob.created_at < cutoff)
            )
        )
        ids = [job_id for job_id, _ in old]
        for start in range(0, len(ids), 500):  # under SQLite's parameter limit
            # Items go by ON DELETE CASCADE (make_engine switches SQLite's foreign keys on).
            session.execute(delete(BatchJob).where(BatchJob.id.in_(ids[start : start + 500])))
    root = storage_dir.resolve()
    removed = missing = 0
    for _, stored in old:
        if not stored:
            continue
        path = Path(stored).resolve()
        if not path.is_relative_to(root):
            continue  # not ours to delete (the storage folder moved since)
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            missing += 1
    return PruneResult(len(ids), removed, missing)

"""Where batch jobs stand, counted from their items and their crawl requests at read time.

Every item is in one of three buckets: ``pending``, ``done`` or ``failed``. A CUE item and a
crawl item settled at intake (refused, or stored and fresh) keep the status they were given.
A crawl item handed to the queue (``submitted``) takes its crawl request's state:
``queued``/``running`` → pending, ``done`` → done, ``failed``/``blocked`` → failed (and a
request that no longer exists → failed), so progress moves as the workers finish.

A job is ``running`` while any item is pending, then ``done``, or ``failed`` when no item
succeeded. It finished when its last crawl request did (at creation for CUE jobs and for
crawl jobs with nothing to wait for).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from service.intake import ACTIVE_STATUSES, aware
from store.models import BatchItem, BatchJob, CrawlRequest

PENDING, DONE, FAILED = "pending", "done", "failed"
GONE = "the crawl request no longer exists"


def _bucket() -> ColumnElement[str]:
    return case(
        (BatchItem.status != "submitted", BatchItem.status),
        (CrawlRequest.status == "done", DONE),
        (CrawlRequest.status.in_(ACTIVE_STATUSES), PENDING),
        else_=FAILED,
    )


def _crawl_finished_at() -> ColumnElement[datetime | None]:
    return case((BatchItem.status == "submitted", CrawlRequest.finished_at), else_=None)


@dataclass(frozen=True, slots=True)
class ItemState:
    """One input and what became of it."""

    position: int
    input: str
    status: str  # done | failed, or a submitted item's crawl request status
    error: str | None
    correlation_id: uuid.UUID | None
    tracklist_id: uuid.UUID | None
    cue_file_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class BatchState:
    """A job's counts (and, when read with :func:`batch_state`, its items)."""

    id: uuid.UUID
    kind: str
    format: str | None
    user_id: int | None
    requested_by: str | None
    force_refresh: bool
    storage_path: str | None
    created_at: datetime
    finished_at: datetime | None
    counts: Counter[str]
    items: tuple[ItemState, ...] = field(default=())

    @property
    def total(self) -> int:
        """How many inputs the job has."""
        return sum(self.counts.values())

    @property
    def status(self) -> str:
        """``running`` while items are pending, then ``done`` (``failed`` if none succeeded)."""
        if self.counts[PENDING]:
            return "running"
        return DONE if self.counts[DONE] else FAILED


def batch_state(session: Session, batch_id: uuid.UUID) -> BatchState | None:
    """The job with every item in input order, or ``None`` when there is no such job."""
    job = session.get(BatchJob, batch_id)
    if job is None:
        return None
    rows = session.execute(
        select(
            BatchItem,
            CrawlRequest.status,
            CrawlRequest.error,
            CrawlRequest.tracklist_id,
            _crawl_finished_at(),
            _bucket(),
        )
        .outerjoin(CrawlRequest, CrawlRequest.correlation_id == BatchItem.correlation_id)
        .where(BatchItem.batch_id == batch_id)
        .order_by(BatchItem.position)
    ).all()
    items: list[ItemState] = []
    counts: Counter[str] = Counter()
    finished: list[datetime] = []
    for item, crawl_status, crawl_error, crawl_tracklist, crawl_finished, bucket in rows:
        counts[bucket] += 1
        if crawl_finished is not None:
            finished.append(aware(crawl_finished))
        submitted = item.status == "submitted"
        items.append(
            ItemState(
                position=item.position,
                input=item.input,
                status=(crawl_status or FAILED) if submitted else item.status,
                error=(crawl_error if crawl_status else GONE) if submitted else item.error,
                correlation_id=item.correlation_id,
                tracklist_id=item.tracklist_id or crawl_tracklist,
                cue_file_id=item.cue_file_id,
            )
        )
    return _state(job, counts, finished, tuple(items))


def list_batches(
    session: Session, user_id: int | None, *, limit: int, offset: int = 0
) -> tuple[list[BatchState], int]:
    """A user's jobs (``None``: those made without a user), newest first, without items;
    and how many there are in all."""
    owner = BatchJob.user_id == user_id if user_id is not None else BatchJob.user_id.is_(None)
    total = session.scalar(select(func.count()).select_from(BatchJob).where(owner)) or 0
    jobs = session.scalars(
        select(BatchJob)
        .where(owner)
        .order_by(BatchJob.created_at.desc(), BatchJob.id)
        .limit(limit)
        .offset(offset)
    ).all()
    if not jobs:
        return [], total
    # Bucket each item in a subquery, then count: grouping by the CASE expression itself
    # would repeat its bound parameters, which PostgreSQL does not see as the same expression.
    bucketed = (
        select(
            BatchItem.batch_id,
            _bucket().label("bucket"),
            _crawl_finished_at().label("finished_at"),
        )
        .outerjoin(CrawlRequest, CrawlRequest.correlation_id == BatchItem.correlation_id)
        .where(BatchItem.batch_id.in_([job.id for job in jobs]))
        .subquery()
    )
    counts: dict[uuid.UUID, Counter[str]] = {job.id: Counter() for job in jobs}
    finished: dict[uuid.UUID, list[datetime]] = {job.id: [] for job in jobs}
    for batch_id, bucket, number, last in session.execute(
        select(
            bucketed.c.batch_id,
            bucketed.c.bucket,
            func.count(),
            func.max(bucketed.c.finished_at),
        ).group_by(bucketed.c.batch_id, bucketed.c.bucket)
    ):
        counts[batch_id][bucket] += number
        if last is not None:
            finished[batch_id].append(aware(last))
    return [_state(job, counts[job.id], finished[job.id], ()) for job in jobs], total


def _state(
    job: BatchJob, counts: Counter[str], finished: list[datetime], items: tuple[ItemState, ...]
) -> BatchState:
    created_at = aware(job.created_at)
    return BatchState(
        id=job.id,
        kind=job.kind,
        format=job.format,
        user_id=job.user_id,
        requested_by=job.requested_by,
        force_refresh=job.force_refresh,
        storage_path=job.storage_path,
        created_at=created_at,
        finished_at=None if counts[PENDING] else max([created_at, *finished]),
        counts=counts,
        items=items,
    )

"""Batch jobs: many crawl requests or CUE files asked for at once, followed as one job."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, utcnow

BATCH_KINDS = ("crawl", "cue")
# A crawl item handed to the crawl queue is "submitted": its live state is its crawl request's.
BATCH_ITEM_STATUSES = ("submitted", "done", "failed")


class BatchJob(Base):
    """One batch: ``crawl`` (URLs to crawl) or ``cue`` (tracklists to render into one zip).

    Progress is not stored here: it is counted from the items and, for crawl batches, from
    the states of their crawl requests, so it moves as the workers finish.
    """

    __tablename__ = "batch_jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str | None] = mapped_column(String(32))
    force_refresh: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_path: Mapped[str | None] = mapped_column(Text)
    # The zip of a cue batch, so any API replica serves it whatever its storage folder holds
    # (``storage_path`` is a local copy). Deferred: progress reads never load it.
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    # GET /batch: the caller's jobs, newest first.
    __table_args__ = (Index("ix_batch_jobs_user_id_created_at", user_id, "created_at"),)


class BatchItem(Base):
    """One input of a batch, in the order given, with its outcome."""

    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batch_jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    input: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crawl_requests.correlation_id", ondelete="SET NULL")
    )
    tracklist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tracklists.id", ondelete="SET NULL")
    )
    cue_file_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("cue_files.id", ondelete="SET NULL")
    )

    # The referencing columns are indexed so deleting a crawl request, tracklist or CUE file
    # does not scan every batch item to null its reference.
    __table_args__ = (
        UniqueConstraint(batch_id, position),
        Index("ix_batch_items_correlation_id", correlation_id),
        Index("ix_batch_items_tracklist_id", tracklist_id),
        Index("ix_batch_items_cue_file_id", cue_file_id),
    )

"""Operational tables: on-demand crawl requests and the events outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, Timestamped, utcnow

CRAWL_STATUSES = ("queued", "running", "done", "failed", "blocked", "held")


class CrawlRequest(Timestamped, Base):
    """One on-demand crawl: queued -> running -> done | failed | blocked | held.

    ``lease_expires_at`` and ``worker_id`` say which worker holds a running request and until
    when, so requests held by a dead worker can be found and queued again.
    """

    __tablename__ = "crawl_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    correlation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    force_refresh: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    tracklist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tracklists.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_crawl_requests_status_created_at", status, "created_at"),
        Index("ix_crawl_requests_url", url),
    )


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports.

    The relay publishes unsent rows in ``id`` order and sets ``sent_at`` only after the
    broker confirmed the message, so a broker outage delays events and never loses them.
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    event_type: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    correlation_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set after a failed publish (e.g. unroutable): the relay skips the row until then.
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        # The relay's query: the oldest unsent rows. A partial index stays tiny.
        Index(
            "ix_outbox_events_unsent",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

"""Messages the MQ consumers have applied, so a redelivered message is not applied twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, utcnow


class ProcessedMessage(Base):
    """One message a consumer committed the effect of (at-least-once delivery, applied once).

    The row is written in the same transaction as the consumer's effect and its reply in the
    outbox; a redelivered message finds it and is acknowledged without doing anything.
    """

    __tablename__ = "processed_messages"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    # Pruning old rows ("older than N days") reads this.
    __table_args__ = (Index("ix_processed_messages_processed_at", processed_at),)

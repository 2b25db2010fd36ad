"""Write events into the outbox, inside the caller's transaction.

An event is never published directly: it is a row committed together with the change it
reports, so a crash or a broker outage cannot separate the two. ``messaging.relay`` publishes
the rows later.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from store.models import Base, OutboxEvent

TRACKLIST_PROCESSED = "tracklist.processed"
TRACKLIST_UPDATED = "tracklist.updated"
TRACKLIST_CATALOGED = "tracklist.cataloged"
TRACKLIST_STATUS_CHANGED = "tracklist.status_changed"


def add_event(
    session: Session,
    event_type: str,
    payload: dict[str, Any],
    *,
    correlation_id: str | None = None,
    routing_key: str | None = None,
) -> uuid.UUID:
    """Queue ``event_type`` with ``payload`` for publication; routing key defaults to the type.

    The row is written in ``session``'s transaction: it is published if and only if the
    caller commits. Returns the event's id (the message id consumers deduplicate on).
    """
    event_id = uuid.uuid4()
    # A Core insert, not session.add: the crawler writes two or three events per page, and
    # the ORM's unit of work cost more than the rows themselves.
    session.execute(
        insert(Base.metadata.tables[OutboxEvent.__tablename__]),
        {
            "event_id": event_id,
            "event_type": event_type,
            "routing_key": routing_key or event_type,
            "payload": payload,
            "correlation_id": correlation_id,
        },
    )
    return event_id

"""Write events into the outbox, inside the caller's transaction.

An event is never published directly: it is a row committed together with the change it
reports, so a crash or a broker outage cannot separate the two. ``pipelines.relay`` publishes
the rows later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from store.models import OutboxEvent

TRACKLIST_PROCESSED = "tracklist.processed"
TRACKLIST_UPDATED = "tracklist.updated"
TRACKLIST_CATALOGED = "tracklist.cataloged"


def add_event(
    session: Session,
    event_type: str,
    payload: dict[str, Any],
    *,
    correlation_id: str | None = None,
    routing_key: str | None = None,
) -> OutboxEvent:
    """Queue ``event_type`` with ``payload`` for publication; routing key defaults to the type.

    The row is only added to ``session``: it is published if and only if the caller commits.
    """
    event = OutboxEvent(
        event_type=event_type,
        routing_key=routing_key or event_type,
        payload=payload,
        correlation_id=correlation_id,
    )
    session.add(event)
    return event

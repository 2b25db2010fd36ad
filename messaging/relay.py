"""The outbox relay: publishes committed outbox rows to RabbitMQ, losing none.

Guarantees, and how they are met:

- A row is marked sent only after the broker confirmed it (publisher confirms), the exchange is
  durable and messages are persistent, so a broker that dies mid-stream loses nothing.
- ``mandatory=True``: a message no queue would receive comes back as unroutable; the row stays
  unsent and is retried after a growing delay (``next_attempt_at``) instead of vanishing.
- Delivery is at least once: a crash between the broker's confirm and our commit publishes the
  row again. Consumers de-duplicate on the AMQP ``message_id`` (the row's ``event_id``).
- On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several relays run without sending a row twice
  at the same time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from store.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# Unroutable or nacked rows are retried after 2, 4, 8 ... seconds, at most this long.
MAX_RETRY_DELAY_SECONDS = 300.0
# Backoff between reconnection attempts when the broker or the database is down.
MAX_OUTAGE_BACKOFF_SECONDS = 30.0

ConnectionFactory = Callable[[pika.URLParameters], pika.BlockingConnection]


def message_body(event: OutboxEvent) -> bytes:
    """The JSON body: the seed's event fields, plus the event's id and time."""
    body: dict[str, Any] = {
        "event_type": event.event_type,
        **event.payload,
        "event_id": str(event.event_id),
        "occurred_at": event.created_at.isoformat(),
    }
    if event.correlation_id:
        body.setdefault("correlation_id", event.correlation_id)
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def message_properties(event: OutboxEvent) -> pika.BasicProperties:
    """Persistent, typed, with the ids consumers need to de-duplicate and correlate."""
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=str(event.event_id),
        correlation_id=event.correlation_id,
        type=event.event_type,
        timestamp=int(event.created_at.timestamp()),
    )


class OutboxRelay:
    """Publishes unsent outbox rows, oldest first, to a durable topic exchange."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        amqp_url: str,
        exchange: str,
        *,
        batch_size: int = BATCH_SIZE,
        connection_factory: ConnectionFactory = pika.BlockingConnection,
    ) -> None:
        self._sessions = session_factory
        self._parameters = pika.URLParameters(amqp_url)
        self._parameters.heartbeat = 30
        self._parameters.blocked_connection_timeout = 30
        self._exchange = exchange
        self._batch_size = batch_size
        self._connect = connection_factory
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self.published = 0

    def _ensure_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = self._connect(self._parameters)
        channel = self._connection.channel()
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def close(self) -> None:
        """Close the broker connection (a new one is opened on the next publish)."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except pika.exceptions.AMQPError:
                log.debug("ignoring error while closing a broken connection", exc_info=True)

    def run_once(self) -> int:
        """Publish one batch of due rows; return how many the broker confirmed.

        Raises the broker's or the database's connection error after saving what was
        confirmed so far; :meth:`run_forever` turns those into a backoff.
        """
        channel = self._ensure_channel()
        published = 0
        with self._sessions() as session:
            query = (
                select(OutboxEvent)
                .where(OutboxEvent.sent_at.is_(None))
                .where(
                    or_(
                        OutboxEvent.next_attempt_at.is_(None),
                        OutboxEvent.next_attempt_at <= utcnow(),
                    )
                )
                .order_by(OutboxEvent.id)
                .limit(self._batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for event in session.scalars(query).all():
                try:
                    channel.basic_publish(
                        self._exchange,
                        event.routing_key,
                        message_body(event),
                        message_properties(event),
                        mandatory=True,
                    )
                except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                    self._defer(event, f"{type(exc).__name__}: no queue accepted it")
                    continue
                except pika.exceptions.AMQPError:
                    # The connection is gone: keep the rows confirmed so far, drop the channel.
                    session.commit()
                    self.close()
                    raise
                event.sent_at = utcnow()
                event.attempts += 1
                published += 1
                # Confirmed by the broker: the last step of a crawl's correlation id.
                log.info(
                    "published %s %s",
                    event.routing_key,
                    event.event_id,
                    extra={"correlation_id": event.correlation_id, "event_id": str(event.event_id)},
                )
            session.commit()
        self.published += published
        return published

    @staticmethod
    def _defer(event: OutboxEvent, error: str) -> None:
        event.attempts += 1
        event.last_error = error
        delay = min(MAX_RETRY_DELAY_SECONDS, 2.0**event.attempts)
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
        log.warning(
            "event %s (%s) deferred %.0fs: %s",
            event.event_id,
            event.routing_key,
            delay,
            error,
            extra={"correlation_id": event.correlation_id},
        )

    def run_forever(
        self,
        stop: threading.Event,
        idle_seconds: float = 1.0,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        """Publish until ``stop`` is set, riding out broker and database outages.

        ``heartbeat`` is called once per round, outages included: it says the loop is alive.
        """
        outage_backoff = 1.0
        while not stop.is_set():
            if heartbeat is not None:
                heartbeat()
            try:
                published = self.run_once()
            except (pika.exceptions.AMQPError, OSError, DBAPIError) as exc:
                log.warning("relay paused %.0fs: %s: %s", outage_backoff, type(exc).__name__, exc)
                self.close()
                stop.wait(outage_backoff)
                outage_backoff = min(MAX_OUTAGE_BACKOFF_SECONDS, outage_backoff * 2)
                continue
            outage_backoff = 1.0
            if published < self._batch_size:
                stop.wait(idle_seconds)
        self.close()


def drain(relay: OutboxRelay, timeout: float) -> int:
    """Run batches until one publishes nothing or ``timeout`` passes; return the total."""
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        published = relay.run_once()
        total += published
        if published == 0:
            break
    return total

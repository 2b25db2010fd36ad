"""The outbox relay: publishes committed outbox rows to RabbitMQ, losing none.

Guarantees, and how they are met:

- A row is marked sent only after the broker confirmed it (publisher confirms), the exchange is
  durable and messages are persistent, so a broker that dies mid-stream loses nothing.
- A message no queue is bound for goes to the exchange's alternate exchange and waits in the
  unrouted queue (:mod:`messaging.topology`), so the outbox drains on a fresh broker. The first
  event of each routing key (and again every :data:`PROBE_INTERVAL_SECONDS` until one went
  there) is checked against the unrouted queue's depth: one warning per routing key per
  process says where its events wait, instead of one per event.
- ``mandatory=True`` still guards an exchange without the alternate exchange (declared before
  or by another service): a message no queue would receive comes back as unroutable; the row
  stays unsent and is retried after a growing delay (``next_attempt_at``) instead of
  vanishing. So is a message the broker nacks (the unrouted queue is full).
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

from messaging.topology import declare_events_exchange, policy_advice, unrouted_name
from store.models import OutboxEvent, utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# Unroutable or nacked rows are retried after 2, 4, 8 ... seconds, at most this long.
MAX_RETRY_DELAY_SECONDS = 300.0
# Backoff between reconnection attempts when the broker or the database is down.
MAX_OUTAGE_BACKOFF_SECONDS = 30.0
# How often a routing key whose events were routed is checked again (a binding may go away).
PROBE_INTERVAL_SECONDS = 300.0

ConnectionFactory = Callable[[pika.URLParameters], pika.BlockingConnection]


class _ReturnsHandled(logging.Filter):
    """Drops pika's warning per returned message: the relay handles returns and warns once
    per routing key itself (one line per event was the flood it replaces)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Published message was returned")


_RETURNS_HANDLED = _ReturnsHandled()


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
        logging.getLogger("pika.adapters.blocking_connection").addFilter(_RETURNS_HANDLED)
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
        # Routing keys (with why) already warned about: each is warned about once per process.
        self._warned: set[tuple[str, str]] = set()
        # When each routing key was last found routed to a queue (monotonic seconds).
        self._routed_at: dict[str, float] = {}

    def _ensure_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = self._connect(self._parameters)
        if not declare_events_exchange(self._connection, self._exchange):
            self._warn_once("", "no-alternate-exchange", policy_advice(self._exchange))
        channel = self._connection.channel()
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
                    self._publish(channel, event)
                except pika.exceptions.UnroutableError:
                    self._defer(event, "UnroutableError: no queue accepted it")
                    self._warn_once(
                        event.routing_key,
                        "unroutable",
                        f"events with routing key {event.routing_key} reach no queue and "
                        f"exchange {self._exchange} has no alternate exchange: they stay in "
                        f"the outbox and are retried until a queue is bound",
                    )
                    continue
                except pika.exceptions.NackError:
                    self._defer(event, "NackError: the broker refused it")
                    self._warn_once(
                        event.routing_key,
                        "nacked",
                        f"the broker refused events with routing key {event.routing_key} "
                        f"(is the unrouted queue {unrouted_name(self._exchange)} full?): they "
                        f"stay in the outbox and are retried",
                    )
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

    def _publish(self, channel: BlockingChannel, event: OutboxEvent) -> None:
        """Publish ``event`` (confirmed); when its key is due a check, see where it went."""
        key = event.routing_key
        routed_at = self._routed_at.get(key)
        probe = (key, "unrouted") not in self._warned and (
            routed_at is None or time.monotonic() - routed_at >= PROBE_INTERVAL_SECONDS
        )
        before = self._unrouted_depth(channel) if probe else 0
        channel.basic_publish(
            self._exchange, key, message_body(event), message_properties(event), mandatory=True
        )
        if not probe:
            return
        # Confirmed, so already counted if it went to the unrouted queue. Another relay's
        # events or a replay may move the depth too: at worst one warning too many or too few.
        if self._unrouted_depth(channel) > before:
            self._warn_once(
                key,
                "unrouted",
                f"events with routing key {key} reach no queue: they wait in queue "
                f"{unrouted_name(self._exchange)} (once a queue is bound, replay them with "
                f"`tracklists mq replay-unrouted`)",
            )
        else:
            self._routed_at[key] = time.monotonic()

    def _unrouted_depth(self, channel: BlockingChannel) -> int:
        declared = channel.queue_declare(unrouted_name(self._exchange), passive=True)
        return int(declared.method.message_count)

    def _warn_once(self, routing_key: str, why: str, message: str) -> None:
        """Log ``message`` as a warning the first time (``routing_key``, ``why``) is seen."""
        if (routing_key, why) in self._warned:
            return
        self._warned.add((routing_key, why))
        log.warning("%s", message, extra={"routing_key": routing_key} if routing_key else None)

    @staticmethod
    def _defer(event: OutboxEvent, error: str) -> None:
        event.attempts += 1
        event.last_error = error
        delay = min(MAX_RETRY_DELAY_SECONDS, 2.0**event.attempts)
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
        # Warned about once per routing key (_warn_once); each event only at debug level.
        log.debug(
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

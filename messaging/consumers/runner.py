"""Run one consumer: take a message, apply it once, acknowledge only after the commit.

Guarantees, and how they are met:

- *Ack after commit.* A handler's effect, its replies (outbox rows) and the message's id in
  ``processed_messages`` are committed in ONE transaction; the message is acknowledged after
  that. A crash before the ack makes the broker deliver the message again.
- *Applied once.* A message whose id is already in ``processed_messages`` is acknowledged
  without doing anything. The id is the AMQP ``message_id`` (the outbox relay sets it to the
  event id); a message without one is known by the SHA-256 of its routing key and body.
- *No endless loop.* A malformed message (not JSON, a missing or invalid field) goes straight
  to the dead-letter exchange; one whose handling raised is retried after a growing delay and
  dead-lettered after ``TRACKLIST_MQ_MAX_RETRIES`` retries (see :mod:`.topology`).
- *Broker outages.* pika never reconnects by itself: :meth:`Consumer.run_forever` reconnects
  with backoff, and unacknowledged messages come back from the broker.

Every delivery is logged with its message and correlation ids and counted in
:class:`~messaging.consumers.metrics.ConsumerMetrics` (outcome, time, retries, dead letters);
the loop reads its queues' depths every ``depth_interval`` seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties
from sqlalchemy.orm import Session, sessionmaker

from messaging.consumers.metrics import ConsumerMetrics
from messaging.topology import Topology
from store.db import run_transaction
from store.models import ProcessedMessage

log = logging.getLogger(__name__)

MAX_OUTAGE_BACKOFF_SECONDS = 30.0
DEPTH_INTERVAL_SECONDS = 5.0
RETRY_HEADER = "x-retry-count"
ERROR_HEADER = "x-error"
_MAX_ERROR_CHARS = 500

Effect = Callable[[Session], str]
"""The transactional part of handling a message; returns the outcome to record."""


class Malformed(ValueError):
    """The message can never be handled (bad JSON, missing or invalid field): dead-letter it."""


@dataclass(frozen=True, slots=True)
class Message:
    """A delivered message, decoded: its JSON object body and the ids it carries."""

    message_id: str
    correlation_id: str | None
    routing_key: str
    body: dict[str, Any]
    properties: BasicProperties

    @classmethod
    def decode(cls, routing_key: str, properties: BasicProperties, raw: bytes) -> Message:
        """Decode a delivery; :class:`Malformed` when the body is not a JSON object."""
        message_id = properties.message_id or (
            "sha256:" + hashlib.sha256(routing_key.encode() + b"\0" + raw).hexdigest()
        )
        if len(message_id) > 200:
            raise Malformed("message_id is longer than 200 characters")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Malformed(f"body is not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise Malformed("body is not a JSON object")
        correlation = properties.correlation_id or body.get("correlation_id")
        if correlation is not None and (not isinstance(correlation, str) or len(correlation) > 100):
            raise Malformed("correlation_id must be a string of at most 100 characters")
        return cls(message_id, correlation, routing_key, body, properties)


class Handler(Protocol):
    """What a consumer does with a message.

    ``prepare`` validates (raising :class:`Malformed`) and does any work that must happen
    outside the transaction, idempotently; the :data:`Effect` it returns runs inside it.
    """

    name: str

    def prepare(self, message: Message) -> Effect:
        """Validate ``message`` and return its transactional effect."""
        ...


class Consumer:
    """One handler on its queue, with the retry and dead-letter policy of ``topology``."""

    def __init__(
        self,
        handler: Handler,
        topology: Topology,
        sessions: sessionmaker[Session],
        amqp_url: str,
        *,
        prefetch_count: int = 1,
    ) -> None:
        self.handler = handler
        self.topology = topology
        self.queue = topology.queues[handler.name].name
        self.sessions = sessions
        self.parameters = pika.URLParameters(amqp_url)
        self.parameters.heartbeat = 30
        self.parameters.blocked_connection_timeout = 30
        self.prefetch_count = prefetch_count
        self.outcomes: dict[str, int] = {}
        self.metrics = ConsumerMetrics(handler.name)
        self.depth_interval = DEPTH_INTERVAL_SECONDS

    # --- applying a message -------------------------------------------------------------

    def apply(self, message: Message) -> str:
        """Apply ``message`` once and commit; ``"duplicate"`` when it was applied before."""
        if self._seen(message.message_id):
            return "duplicate"
        effect = self.handler.prepare(message)
        return run_transaction(
            self.sessions, lambda session: self._commit(session, message, effect)
        )

    def _seen(self, message_id: str) -> bool:
        with self.sessions() as session:
            return session.get(ProcessedMessage, (self.handler.name, message_id)) is not None

    def _commit(self, session: Session, message: Message, effect: Effect) -> str:
        if session.get(ProcessedMessage, (self.handler.name, message.message_id)) is not None:
            return "duplicate"  # a concurrent delivery of the same message committed first
        record = ProcessedMessage(
            consumer=self.handler.name, message_id=message.message_id, outcome="applying"
        )
        session.add(record)
        session.flush()  # a concurrent twin now blocks on, then fails over, this primary key
        record.outcome = effect(session)
        return record.outcome

    # --- one delivery -------------------------------------------------------------------

    def on_delivery(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        raw: bytes,
    ) -> None:
        """Apply, then ack; or retry / dead-letter, then ack. Broker errors propagate."""
        started = time.perf_counter()
        routing_key = method.routing_key or ""
        # The request's ids on every line about it (a malformed body may not decode).
        ids = {"correlation_id": properties.correlation_id, "message_id": properties.message_id}
        try:
            message = Message.decode(routing_key, properties, raw)
            ids = {"correlation_id": message.correlation_id, "message_id": message.message_id}
            outcome = self.apply(message)
        except Malformed as exc:
            log.warning("%s: dead-lettering malformed message: %s", self.queue, exc, extra=ids)
            self._dead_letter(channel, method, properties, raw, f"malformed: {exc}")
            self.metrics.dead_lettered("malformed")
            outcome = "malformed"
        except Exception as exc:
            log.exception("%s: handling failed", self.queue, extra=ids)
            error = f"{type(exc).__name__}: {exc}"
            outcome = self._retry(channel, method, properties, raw, error, ids)
        else:
            log.info("%s: %s message %s", self.queue, outcome, message.message_id, extra=ids)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        channel.basic_ack(method.delivery_tag)
        self.metrics.delivered(outcome, time.perf_counter() - started)

    def _retry(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        raw: bytes,
        error: str,
        ids: dict[str, str | None],
    ) -> str:
        attempt = _retry_count(properties) + 1
        if attempt > self.topology.max_retries:
            log.error(
                "%s: giving up after %d retries: %s", self.queue, attempt - 1, error, extra=ids
            )
            self._dead_letter(channel, method, properties, raw, error)
            self.metrics.dead_lettered("retries_exhausted")
            return "dead-lettered"
        target = self.topology.retry_queue(self.queue, attempt)
        channel.basic_publish(
            "", target, raw, _with_headers(properties, method, attempt, error), mandatory=True
        )
        self.metrics.retried()
        return "retrying"

    def _dead_letter(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        raw: bytes,
        error: str,
    ) -> None:
        headers = _with_headers(properties, method, _retry_count(properties), error)
        channel.basic_publish(
            self.topology.dead_letter_exchange, self.queue, raw, headers, mandatory=True
        )

    # --- the loop -----------------------------------------------------------------------

    def run_forever(
        self, stop: threading.Event, heartbeat: Callable[[], None] | None = None
    ) -> None:
        """Consume until ``stop`` is set, reconnecting after broker outages."""
        backoff = 1.0
        while not stop.is_set():
            connection: pika.BlockingConnection | None = None
            try:
                connection = pika.BlockingConnection(self.parameters)
                channel = connection.channel()
                channel.confirm_delivery()  # retries and dead letters are confirmed publishes
                channel.basic_qos(prefetch_count=self.prefetch_count)
                self.topology.declare(channel, self.handler.name)
                channel.basic_consume(self.queue, self.on_delivery)
                log.info("consuming %s", self.queue)
                backoff = 1.0
                depths_read = 0.0
                while not stop.is_set():
                    if heartbeat is not None:
                        heartbeat()
                    if time.monotonic() - depths_read >= self.depth_interval:
                        self.metrics.read_depths(channel, self._queues())
                        depths_read = time.monotonic()
                    connection.process_data_events(time_limit=1)
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning(
                    "%s: broker unavailable (%r); retrying in %.0fs", self.queue, exc, backoff
                )
                stop.wait(backoff)
                backoff = min(MAX_OUTAGE_BACKOFF_SECONDS, backoff * 2)
            finally:
                _close(connection)

    def _queues(self) -> list[str]:
        """This consumer's queue, its retry queues and its dead-letter queue."""
        retries = range(1, self.topology.max_retries + 1)
        return [
            self.queue,
            *(self.topology.retry_queue(self.queue, attempt) for attempt in retries),
            self.topology.dead_queue(self.queue),
        ]


def _retry_count(properties: BasicProperties) -> int:
    value = (properties.headers or {}).get(RETRY_HEADER, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _with_headers(
    properties: BasicProperties, method: Basic.Deliver, retries: int, error: str
) -> BasicProperties:
    """The message's own properties (ids kept, so de-duplication still works), annotated."""
    headers = dict(properties.headers or {})
    headers.update(
        {
            RETRY_HEADER: retries,
            ERROR_HEADER: error[:_MAX_ERROR_CHARS],
            "x-original-exchange": method.exchange,
            "x-original-routing-key": method.routing_key,
        }
    )
    return BasicProperties(
        content_type=properties.content_type,
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=properties.message_id,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        type=properties.type,
        app_id=properties.app_id,
        timestamp=properties.timestamp,
        headers=headers,
    )


def _close(connection: pika.BlockingConnection | None) -> None:
    if connection is not None and connection.is_open:
        try:
            connection.close()
        except pika.exceptions.AMQPError:
            log.debug("ignoring error while closing a broken connection", exc_info=True)

"""Exchanges, queues and bindings of the MQ consumers, and how failed messages travel.

On the service's topic exchange (``TRACKLIST_MQ_EXCHANGE_NAME``), each consumer has a durable
quorum queue bound to its routing keys::

    search     tracklist_search_queue        <- tracklist.search   (TRACKLIST_MQ_SEARCH_*)
    retrieval  tracklist_retrieval_queue     <- tracklist.retrieve (TRACKLIST_MQ_RETRIEVAL_QUEUE)
    files      tracklist_file_events_queue   <- file.changed       (TRACKLIST_MQ_FILES_QUEUE)

Replies and events go out through the outbox (``tracklist.result``, ``cue.validated``,
``cue.generated``), published by the relay.

Failures: a message whose handling raised is published, with ``x-retry-count`` = n, to the
queue's retry queue ``<queue>.retry.<n>`` (n = 1..``TRACKLIST_MQ_MAX_RETRIES``), whose TTL is
``TRACKLIST_MQ_BASE_DELAY_SECONDS`` * 2^(n-1); when it expires the broker dead-letters it back
into ``<queue>`` through the default exchange. After the last retry, or at once when the
message is malformed (retrying cannot help), it is published to the dead-letter exchange
``<exchange>.dlx`` (direct) with routing key ``<queue>`` and lands in ``<queue>.dead`` with
``x-error`` saying why. The main queues also dead-letter there natively: a quorum queue's
``x-delivery-limit`` catches a message that kills its consumer every time (never acked, so
never retried by us), and a ``basic.reject`` from any client ends up there too.

Unrouted events: the exchange is declared with the ``alternate-exchange`` argument naming the
fanout exchange ``<exchange>.unrouted``, bound to the durable, bounded queue of the same name.
A message no binding takes (an event nobody subscribed to yet) goes there instead of coming
back to the publisher, so the outbox drains on a fresh broker and nothing is lost; ``tracklists
mq replay-unrouted`` moves them back once a queue is bound. An exchange that already exists
without the argument (declared by another service, or before this) cannot be redeclared with
it (``PRECONDITION_FAILED``): :func:`declare_events_exchange` then keeps it as it is and says
so; an operator policy can give it the alternate exchange (:func:`policy_advice`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from config.settings import Settings

RETRIEVAL_ROUTING_KEY = "tracklist.retrieve"
FILES_ROUTING_KEY = "file.changed"

# The unrouted queue's bounds: events are ~1-5 KB, so about 100,000 of them. Past a bound the
# broker refuses (nacks) the publish and the relay keeps the event in the outbox, retrying it
# with backoff: the database holds the overflow and nothing is dropped ("drop-head", the
# default overflow, would silently discard the oldest events).
UNROUTED_MAX_LENGTH = 100_000
UNROUTED_MAX_BYTES = 256 * 1024 * 1024
# RabbitMQ's words when an exchange exists with another (or no) alternate exchange.
_INEQUIVALENT_AE = "inequivalent arg 'alternate-exchange'"


class _ExpectedRefusal(logging.Filter):
    """Drops pika's warning about the refusal :func:`declare_events_exchange` expects and
    reports itself (clearly, once), so consoles and logs do not show it raw at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _INEQUIVALENT_AE not in record.getMessage()


_EXPECTED_REFUSAL = _ExpectedRefusal()


def unrouted_name(exchange: str) -> str:
    """The alternate exchange of ``exchange``, and the queue behind it (same name)."""
    return f"{exchange}.unrouted"


def policy_advice(exchange: str) -> str:
    """One paragraph: the exchange lacks our alternate exchange, what that means, the fix."""
    policy = f'{{"alternate-exchange":"{unrouted_name(exchange)}"}}'
    return (
        f"exchange {exchange} exists without the alternate-exchange argument, so events no "
        f"queue is bound for stay in the outbox and are retried, unless a policy gives it "
        f"one: rabbitmqctl set_policy {exchange}-unrouted '^{exchange}$' '{policy}' "
        f"--apply-to exchanges (or delete the exchange and declare it again)"
    )


def declare_events_exchange(connection: BlockingConnection, exchange: str) -> bool:
    """Declare ``exchange`` (topic) with its alternate exchange and unrouted queue.

    Returns False when ``exchange`` already exists without that alternate exchange: it is
    kept as it is (other services may be bound to it) and events no queue takes are returned
    to the relay as before. Any other refusal raises ``ChannelClosedByBroker``. Uses channels
    of its own, since a refused declaration closes its channel.
    """
    logging.getLogger("pika.channel").addFilter(_EXPECTED_REFUSAL)  # idempotent
    unrouted = unrouted_name(exchange)
    channel = connection.channel()
    channel.exchange_declare(unrouted, exchange_type="fanout", durable=True)
    channel.queue_declare(
        unrouted,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-max-length": UNROUTED_MAX_LENGTH,
            "x-max-length-bytes": UNROUTED_MAX_BYTES,
            "x-overflow": "reject-publish",
        },
    )
    channel.queue_bind(unrouted, unrouted)
    try:
        channel.exchange_declare(
            exchange,
            exchange_type="topic",
            durable=True,
            arguments={"alternate-exchange": unrouted},
        )
    except pika.exceptions.ChannelClosedByBroker as exc:
        if _INEQUIVALENT_AE not in str(exc.reply_text):
            raise
        return False
    channel.close()
    return True


def delete_events_exchange(channel: BlockingChannel, exchange: str) -> None:
    """Delete ``exchange``, its alternate exchange and the unrouted queue (tests, teardown)."""
    channel.exchange_delete(exchange)
    channel.queue_delete(unrouted_name(exchange))
    channel.exchange_delete(unrouted_name(exchange))


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A consumer's queue and the routing keys bound to it."""

    name: str
    routing_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topology:
    """Every name the consumers use, and the retry policy that shapes the retry queues."""

    exchange: str
    queues: dict[str, QueueSpec]
    max_retries: int
    base_delay_seconds: float
    dead_letter_exchange: str = field(default="")

    def __post_init__(self) -> None:
        if not self.dead_letter_exchange:
            object.__setattr__(self, "dead_letter_exchange", f"{self.exchange}.dlx")

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        """The configured names: the seed's search queue and key, ours for the others."""
        return cls(
            exchange=settings.mq_exchange_name,
            queues={
                "search": QueueSpec(settings.mq_search_queue, (settings.mq_search_routing_key,)),
                "retrieval": QueueSpec(settings.mq_retrieval_queue, (RETRIEVAL_ROUTING_KEY,)),
                "files": QueueSpec(settings.mq_files_queue, (FILES_ROUTING_KEY,)),
            },
            max_retries=settings.mq_max_retries,
            base_delay_seconds=settings.mq_base_delay_seconds,
        )

    def retry_queue(self, queue: str, attempt: int) -> str:
        """The queue a message waits in before its ``attempt``-th retry (1-based)."""
        return f"{queue}.retry.{attempt}"

    def retry_delay_ms(self, attempt: int) -> int:
        """Exponential backoff: base, 2 x base, 4 x base, ..."""
        return int(self.base_delay_seconds * 1000 * 2 ** (attempt - 1))

    def dead_queue(self, queue: str) -> str:
        """Where messages given up on wait for a person (or a replay)."""
        return f"{queue}.dead"

    @property
    def unrouted_queue(self) -> str:
        """Where events no binding takes wait (see the module docstring)."""
        return unrouted_name(self.exchange)

    def declare(self, channel: BlockingChannel, consumer: str) -> bool:
        """Declare (idempotently) the exchanges and everything ``consumer``'s queue needs.

        Returns whether the exchange has our alternate exchange (:func:`declare_events_exchange`).
        """
        spec = self.queues[consumer]
        alternate = declare_events_exchange(channel.connection, self.exchange)
        channel.exchange_declare(self.dead_letter_exchange, exchange_type="direct", durable=True)
        channel.queue_declare(
            spec.name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": self.dead_letter_exchange,
                "x-dead-letter-routing-key": spec.name,
                # Deliveries never acked (the consumer died on them) count here; our own
                # retries are new publishes and do not.
                "x-delivery-limit": self.max_retries + 1,
            },
        )
        for routing_key in spec.routing_keys:
            channel.queue_bind(spec.name, self.exchange, routing_key=routing_key)
        for attempt in range(1, self.max_retries + 1):
            channel.queue_declare(
                self.retry_queue(spec.name, attempt),
                durable=True,
                arguments={
                    "x-message-ttl": self.retry_delay_ms(attempt),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": spec.name,
                },
            )
        dead = self.dead_queue(spec.name)
        channel.queue_declare(dead, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(dead, self.dead_letter_exchange, routing_key=spec.name)
        return alternate

    def declare_all(self, channel: BlockingChannel) -> bool:
        """Declare every consumer's queues (``tracklists mq setup``); as :meth:`declare`."""
        return all([self.declare(channel, consumer) for consumer in self.queues])

    def delete_all(self, channel: BlockingChannel) -> None:
        """Delete every queue and exchange declared here (tests and teardown)."""
        for spec in self.queues.values():
            for attempt in range(1, self.max_retries + 1):
                channel.queue_delete(self.retry_queue(spec.name, attempt))
            channel.queue_delete(self.dead_queue(spec.name))
            channel.queue_delete(spec.name)
        channel.exchange_delete(self.dead_letter_exchange)
        delete_events_exchange(channel, self.exchange)

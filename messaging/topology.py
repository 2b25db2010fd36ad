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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pika.adapters.blocking_connection import BlockingChannel

from config.settings import Settings

RETRIEVAL_ROUTING_KEY = "tracklist.retrieve"
FILES_ROUTING_KEY = "file.changed"


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

    def declare(self, channel: BlockingChannel, consumer: str) -> None:
        """Declare (idempotently) the exchanges and everything ``consumer``'s queue needs."""
        spec = self.queues[consumer]
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
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

    def declare_all(self, channel: BlockingChannel) -> None:
        """Declare every consumer's queues (``tracklists mq setup``)."""
        for consumer in self.queues:
            self.declare(channel, consumer)

    def delete_all(self, channel: BlockingChannel) -> None:
        """Delete every queue and exchange declared here (tests and teardown)."""
        for spec in self.queues.values():
            for attempt in range(1, self.max_retries + 1):
                channel.queue_delete(self.retry_queue(spec.name, attempt))
            channel.queue_delete(self.dead_queue(spec.name))
            channel.queue_delete(spec.name)
        channel.exchange_delete(self.dead_letter_exchange)
        channel.exchange_delete(self.exchange)

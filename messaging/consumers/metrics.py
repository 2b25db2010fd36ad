"""Prometheus metrics of a running consumer, served over HTTP while it runs (as the crawler's).

Series (``consumer`` is ``search``, ``retrieval`` or ``files``):

- ``tracklists_consumer_messages_total{consumer, outcome}``: deliveries by outcome (the
  handler's, e.g. ``answered``, or ``duplicate``, ``retrying``, ``dead-lettered``, ``malformed``);
- ``tracklists_consumer_processing_seconds{consumer}``: delivery to acknowledgement;
- ``tracklists_consumer_retries_total{consumer}``: failures sent to a retry queue;
- ``tracklists_consumer_dead_letters_total{consumer, reason}``: messages given up on, because
  they are ``malformed`` or their ``retries_exhausted``;
- ``tracklists_consumer_queue_depth{queue}``: messages ready in the consumer's queue, its retry
  queues and its dead-letter queue, as the consumer last read them (every few seconds).

``tracklists consume KIND`` serves them while it runs (see :mod:`cli.consume` for the port).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


class ConsumerMetrics:
    """One consumer's series, in a registry of its own."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.registry = CollectorRegistry()
        self._messages = Counter(
            "tracklists_consumer_messages",
            "Deliveries handled, by outcome.",
            ("consumer", "outcome"),
            registry=self.registry,
        )
        self._processing = Histogram(
            "tracklists_consumer_processing_seconds",
            "Time from delivery to acknowledgement.",
            ("consumer",),
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self._retries = Counter(
            "tracklists_consumer_retries",
            "Failed deliveries sent to a retry queue.",
            ("consumer",),
            registry=self.registry,
        )
        self._dead_letters = Counter(
            "tracklists_consumer_dead_letters",
            "Messages sent to the dead-letter queue, by reason.",
            ("consumer", "reason"),
            registry=self.registry,
        )
        self._depth = Gauge(
            "tracklists_consumer_queue_depth",
            "Messages ready in a queue of this consumer, as last read.",
            ("queue",),
            registry=self.registry,
        )
        self.server: Any = None

    def delivered(self, outcome: str, seconds: float) -> None:
        """Count one acknowledged delivery and how long it took."""
        self._messages.labels(self.consumer, outcome).inc()
        self._processing.labels(self.consumer).observe(seconds)

    def retried(self) -> None:
        """Count a failure sent to a retry queue."""
        self._retries.labels(self.consumer).inc()

    def dead_lettered(self, reason: str) -> None:
        """Count a message given up on (``malformed`` or ``retries_exhausted``)."""
        self._dead_letters.labels(self.consumer, reason).inc()

    def read_depths(self, channel: BlockingChannel, queues: Iterable[str]) -> None:
        """Ask the broker how many messages wait in each of ``queues`` (passive declares)."""
        for queue in queues:
            count = channel.queue_declare(queue, passive=True).method.message_count
            self._depth.labels(queue).set(count)

    def serve(self, host: str, port: int) -> int | None:
        """Serve ``/metrics`` on ``host:port`` in a thread; the port bound, ``None`` if taken."""
        try:
            self.server, _thread = start_http_server(port, host, registry=self.registry)
        except OSError as exc:
            # Another consumer on this machine has the port: consume on, without metrics.
            log.warning("consumer metrics not served on %s:%d: %s", host, port, exc)
            return None
        bound = int(self.server.server_address[1])
        log.info("consumer metrics on http://%s:%d/metrics", host, bound)
        return bound

    def close(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

"""Scrapy extensions of the crawler.

:class:`OutboxRelayExtension` runs the outbox relay inside a crawl process (``-s
TRACKLIST_RELAY_IN_WORKER=True``), so a single worker is a complete deployment: events of
what it stores reach RabbitMQ without a separate ``tracklists relay``. Several relays (in
several workers) may run at once; on PostgreSQL they never send a row twice at the same time.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Self

import pika.exceptions
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import DBAPIError
from twisted.internet import threads
from twisted.internet.defer import Deferred

from messaging.relay import OutboxRelay, drain
from store.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


class OutboxRelayExtension:
    """Publishes outbox events from a background thread while the spider runs."""

    def __init__(self, relay: OutboxRelay, final_drain_seconds: float) -> None:
        self.relay = relay
        self.final_drain_seconds = final_drain_seconds
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("TRACKLIST_RELAY_IN_WORKER"):
            raise NotConfigured("TRACKLIST_RELAY_IN_WORKER is off")
        engine = make_engine(settings.get("TRACKLIST_DATABASE_URL"), pool_size=2)
        relay = OutboxRelay(
            make_session_factory(engine),
            settings.get("TRACKLIST_MQ_URL"),
            settings.get("TRACKLIST_MQ_EXCHANGE"),
        )
        extension = cls(relay, settings.getfloat("TRACKLIST_RELAY_FINAL_DRAIN_SECONDS", 10.0))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.thread = threading.Thread(
            target=self.relay.run_forever, args=(self.stop, 0.5), name="outbox-relay", daemon=True
        )
        self.thread.start()

    def spider_closed(self, spider: Any, reason: str) -> Deferred[None]:
        return threads.deferToThread(self._finish)

    def _finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
        # Events of the last items were committed after the thread's final batch: send them
        # now if the broker is up. If it is not, they stay in the outbox for the next relay.
        try:
            drain(self.relay, self.final_drain_seconds)
        except (pika.exceptions.AMQPError, OSError, DBAPIError) as exc:
            log.warning("final outbox drain stopped: %s", exc)
        finally:
            self.relay.close()

"""Service-state gauges read at scrape time: outbox backlog, crawl requests, queue, DB pool,
and the evictions of the Redis that holds the response cache.

These are facts about shared state (the database, Redis), not counts this process kept, so
they are computed when Prometheus scrapes, by whichever API worker answers. A store that does
not answer leaves its gauges out of that scrape (and the failure in the log) rather than
failing ``/metrics``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.extensions import db, redis_store
from store.crawl_queue import DEFAULT_QUEUE_KEY
from store.models import CRAWL_STATUSES, CrawlRequest, OutboxEvent, utcnow

log = logging.getLogger(__name__)


class ServiceState(Collector):
    """Gauges of the outbox, the crawl requests, the Redis queue and this worker's pool."""

    def describe(self) -> list[GaugeMetricFamily]:
        # Registration would otherwise call collect() outside any request to learn the names.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._database()
        yield from self._queue()
        yield from self._evictions()
        yield from self._pool()

    def _database(self) -> Iterator[GaugeMetricFamily]:
        try:
            with Session(db.engine) as session:
                unsent, oldest = session.execute(
                    select(func.count(), func.min(OutboxEvent.created_at)).where(
                        OutboxEvent.sent_at.is_(None)
                    )
                ).one()
                rows = session.execute(
                    select(CrawlRequest.status, func.count()).group_by(CrawlRequest.status)
                )
                by_status = {status: count for status, count in rows}
        except SQLAlchemyError as exc:
            log.warning("service-state metrics without the database: %s", exc)
            return
        yield GaugeMetricFamily(
            "tracklists_outbox_unsent", "Outbox events not yet confirmed by the broker", unsent
        )
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
            age = (utcnow() - oldest).total_seconds()
        yield GaugeMetricFamily(
            "tracklists_outbox_oldest_unsent_seconds", "Age of the oldest unsent event", age
        )
        requests = GaugeMetricFamily(
            "tracklists_crawl_requests", "On-demand crawl requests by status", labels=["status"]
        )
        for status in CRAWL_STATUSES:
            requests.add_metric([status], by_status.get(status, 0))
        yield requests

    def _queue(self) -> Iterator[GaugeMetricFamily]:
        client = redis_store.client
        if client is None:
            return
        try:
            depth = int(client.llen(DEFAULT_QUEUE_KEY))
        except redis.RedisError as exc:
            log.warning("queue depth unavailable: %s", exc)
            return
        yield GaugeMetricFamily(
            "tracklists_crawl_queue_depth", "Crawl messages waiting in Redis", depth
        )

    def _evictions(self) -> Iterator[CounterMetricFamily]:
        # Redis evicts only at its maxmemory, and every key we write has a TTL, so any eviction
        # policy may take rate-limit counters and revoked-token entries along with cached
        # responses: worth an alert (docs/operations.md).
        client = redis_store.client
        if client is None:
            return
        try:
            evicted = int(client.info("stats")["evicted_keys"])
        except redis.RedisError as exc:
            log.warning("Redis evictions unavailable: %s", exc)
            return
        yield CounterMetricFamily(
            "tracklists_cache_evictions",
            "Keys the cache's Redis evicted at its memory limit (the whole server's count)",
            evicted,
        )

    def _pool(self) -> Iterator[GaugeMetricFamily]:
        pool = db.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if callable(checked_out) and callable(size):
            yield GaugeMetricFamily(
                "tracklists_db_pool_checked_out",
                "Database connections in use by the answering worker",
                checked_out(),
            )
            yield GaugeMetricFamily(
                "tracklists_db_pool_size", "Database pool size of the answering worker", size()
            )

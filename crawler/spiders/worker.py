"""``scrapy crawl worker``: long-running, fed on-demand requests through Redis (scrapy-redis).

scrapy-redis pulls messages when the spider idles; we keep its feeding but replace its
destructive pop with :meth:`store.crawl_queue.CrawlQueue.take`, which leases each request to
this worker in the ``crawl_requests`` table. While the worker lives it renews its leases and
reconciles the queue (requeueing what dead workers held); outcomes are recorded in the table:
``done`` by the store pipeline in the item's own transaction, ``failed``/``blocked`` here.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any, Self

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy_redis.spiders import RedisSpider
from sqlalchemy.exc import DBAPIError
from twisted.internet import task, threads
from twisted.internet.defer import Deferred, DeferredList

from crawler.spiders.base import OffSiteURL, SiteSpider
from crawler.spiders.errors import without_addresses
from store import heartbeats
from store.crawl_queue import CrawlJob, CrawlQueue, finish_request
from store.db import make_engine, make_session_factory, run_transaction


class WorkerSpider(RedisSpider, SiteSpider):  # type: ignore[misc]  # scrapy-redis is untyped
    """Crawls what the API and message consumers queue, one leased request at a time."""

    name = "worker"
    worker_id: str
    queue: CrawlQueue
    lease_seconds: float
    requeue_after: float
    max_attempts: int
    renew_interval: float
    heartbeat_prefix: str
    _pending: set[Deferred[Any]]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider: Self = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        spider.engine = make_engine(settings.get("TRACKLIST_DATABASE_URL"))
        spider.queue = CrawlQueue(
            redis.Redis.from_url(settings.get("TRACKLIST_REDIS_URL")),
            make_session_factory(spider.engine),
            settings.get("TRACKLIST_CRAWL_QUEUE_KEY"),
        )
        spider.redis_key = spider.queue.key
        spider.redis_batch_size = settings.getint("TRACKLIST_WORKER_BATCH")
        spider.lease_seconds = settings.getfloat("TRACKLIST_WORKER_LEASE_SECONDS")
        spider.requeue_after = settings.getfloat("TRACKLIST_WORKER_REQUEUE_AFTER")
        spider.max_attempts = settings.getint("TRACKLIST_WORKER_MAX_ATTEMPTS")
        spider.renew_interval = settings.getfloat("TRACKLIST_WORKER_RENEW_INTERVAL")
        spider.heartbeat_prefix = settings.get("TRACKLIST_WORKER_HEARTBEAT_KEY_PREFIX")
        spider.keeper = task.LoopingCall(spider._keep_leases)
        spider._pending = set()
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        return spider

    def setup_redis(self, crawler: Crawler | None = None) -> None:
        super().setup_redis(crawler)
        # Leasing pop instead of scrapy-redis's LRANGE+LTRIM: a killed worker loses nothing.
        self.fetch_data = self._take

    async def start(self) -> AsyncIterator[Request]:
        # scrapy-redis 0.9.1 only defines start_requests(); Scrapy >= 2.16 calls start().
        for request in self.next_requests():
            yield request

    def _take(self, _key: str, batch_size: int) -> list[CrawlJob]:
        try:
            jobs = self.queue.take(batch_size, self.worker_id, self.lease_seconds)
        except (redis.RedisError, DBAPIError) as exc:
            # Raising here would end the spider (scrapy-redis's idle hook would not keep it
            # open); the queue gave the messages back, so wait for the next idle round.
            self.logger.warning("cannot take requests now: %s", exc)
            return []
        if jobs:
            self._touch()
        return jobs

    def _touch(self) -> None:
        # scrapy-redis counts idle time from a class attribute set at import time, so a worker
        # would close at its first idle moment; count from the last work instead.
        self.spider_idle_start_time = int(time.time())

    def make_request_from_data(self, data: CrawlJob) -> Iterable[Request]:
        try:
            request = self.tracklist_request(
                data.url,
                correlation_id=data.correlation_id,
                force_refresh=data.force_refresh,
                dont_filter=True,
            )
        except OffSiteURL as exc:
            self._record(data.correlation_id, "failed", str(exc))
            return []
        return [request]

    def request_failed(self, request: Request | None, status: str, error: str) -> None:
        if request is not None and request.meta.get("correlation_id"):
            self._record(request.meta["correlation_id"], status, error)

    def _item_dropped(
        self, item: Any, response: Any, exception: BaseException, spider: Any
    ) -> None:
        correlation_id = getattr(item, "correlation_id", None)
        if correlation_id:
            self._record(correlation_id, "failed", f"dropped: {exception}")

    def _record(self, correlation_id: str, status: str, error: str) -> None:
        """Write an outcome off the reactor thread; a failure to write is logged, the lease
        then expires and the request is retried, so nothing is lost.

        API clients read the error: the addresses it names are left out.
        """
        shown = without_addresses(error)[:2000]
        work = threads.deferToThread(
            run_transaction,
            self.queue.sessions,
            lambda session: finish_request(session, correlation_id, status, error=shown),
        )
        work.addErrback(
            lambda failure: self.logger.error("cannot record %s: %s", correlation_id, failure.value)
        )

    def _keep_leases(self) -> Any:
        def keep() -> None:
            # Leases first: a worker that lives keeps what it holds even when Redis fails it.
            self.queue.renew(self.worker_id, self.lease_seconds)
            heartbeats.beat(
                self.queue.redis, self.heartbeat_prefix, self.worker_id, 3 * self.renew_interval
            )
            requeued = self.queue.reconcile(
                requeue_after_seconds=self.requeue_after, max_attempts=self.max_attempts
            )
            if requeued:
                self.logger.info(
                    "requeued %d request(s) from dead workers or a lost queue", requeued
                )

        return threads.deferToThread(keep).addErrback(
            lambda failure: self.logger.warning("lease upkeep failed: %s", failure.value)
        )

    def _opened(self, spider: Any) -> None:
        self._touch()
        self.keeper.start(self.renew_interval, now=True)

    def _closed(self, spider: Any, reason: str) -> Deferred[Any]:
        if self.keeper.running:
            self.keeper.stop()
        # Outcomes still being written go first, or release() would requeue finished requests.
        pending = DeferredList(list(self._pending), consumeErrors=True)
        return pending.addBoth(lambda _: threads.deferToThread(self._shut_down))

    def _shut_down(self) -> None:
        # A clean stop hands back what was not finished at once, not when the leases expire.
        released = self.queue.release(self.worker_id)
        if released:
            self.logger.info("handed back %d unfinished request(s)", released)
        heartbeats.forget(self.queue.redis, self.heartbeat_prefix, self.worker_id)
        self.queue.redis.close()
        self.engine.dispose()

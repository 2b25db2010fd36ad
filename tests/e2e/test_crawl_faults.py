"""Faults mid-crawl: a worker SIGKILLed, the broker cut, the database cut. Nothing is lost.

Services are never stopped: each fault is a TCP proxy between the crawler and the real
service, cut and restored in ``finally``, so a failing test leaves the machine as it was.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pika
import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from support.crawling import crawl_env, start_spider
from support.tcpproxy import TcpProxy

from crawler.localsite import LocalSite, Rule
from crawler.localsite.synthetic import add_distinct_tracklists
from messaging.topology import delete_events_exchange
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import CrawlRequest, OutboxEvent, Tracklist, TracklistEntry, TracklistVersion

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
PAGE = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
FAST_LEASES = {
    "TRACKLIST_WORKER_BATCH": "8",
    "TRACKLIST_WORKER_LEASE_SECONDS": "3",
    "TRACKLIST_WORKER_RENEW_INTERVAL": "1",
    "TRACKLIST_WORKER_REQUEUE_AFTER": "5",
    "TRACKLIST_WORKER_MAX_ATTEMPTS": "5",
}


@pytest.fixture
def queue(database: Engine, redis_url: str) -> Iterator[CrawlQueue]:
    crawl_queue = CrawlQueue(
        redis.Redis.from_url(redis_url),
        make_session_factory(database),
        f"test:faults:{uuid.uuid4().hex[:8]}",
    )
    yield crawl_queue
    crawl_queue.redis.delete(crawl_queue.key)


def _statuses(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(CrawlRequest.status, func.count()).group_by(CrawlRequest.status)
        )
        return {status: count for status, count in rows}


def _status_of(engine: Engine, url: str) -> str | None:
    with Session(engine) as session:
        return session.scalar(select(CrawlRequest.status).where(CrawlRequest.url == url))


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def _finish(worker: subprocess.Popen[bytes], timeout: float) -> None:
    try:
        worker.wait(timeout=timeout)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log = worker.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
    assert worker.returncode == 0, log[-3000:]


def _assert_all_stored_once(engine: Engine, count: int, rows_per_page: int) -> None:
    assert _statuses(engine) == {"done": count}
    assert _count(engine, Tracklist) == count
    assert _count(engine, TracklistVersion) == count
    assert _count(engine, TracklistEntry) == count * rows_per_page


def _queue_tracklists(
    site: LocalSite, queue: CrawlQueue, real_pages: Path, count: int
) -> list[str]:
    """Serve ``count`` distinct tracklists and queue a crawl request for each; their URLs."""
    urls = add_distinct_tracklists(site.store, [(real_pages / PAGE).read_bytes()], count)
    for url in urls:
        queue.submit(url)
    return urls


def test_sigkilled_worker_loses_nothing(
    site: LocalSite,
    database: Engine,
    queue: CrawlQueue,
    postgres_url: str,
    redis_url: str,
    real_pages: Path,
) -> None:
    urls = _queue_tracklists(site, queue, real_pages, 500)
    # One page answers slowly: killing the worker while it fetches that page is certain to
    # catch it holding leases (requests it took out of Redis and has not finished).
    slow = urls[100]
    site.add_rule(urlsplit(slow).path, Rule(delay=20, times=1))
    env = crawl_env(site.base_url, postgres_url, redis_url)
    settings = {
        **FAST_LEASES,
        "TRACKLIST_CRAWL_QUEUE_KEY": queue.key,
        "MAX_IDLE_TIME_BEFORE_CLOSE": "0",
    }
    first = start_spider("worker", env, settings=settings)
    try:
        _wait(lambda: _status_of(database, slow) == "running", 120)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    held = _statuses(database).get("running", 0)
    assert held > 0
    second = start_spider("worker", env, settings={**settings, "MAX_IDLE_TIME_BEFORE_CLOSE": "8"})
    _finish(second, timeout=300)
    _assert_all_stored_once(database, 500, rows_per_page=14)
    with Session(database) as session:
        retried = session.scalar(select(func.count()).where(CrawlRequest.attempts > 1)) or 0
    assert retried >= held  # what the killed worker held was taken again, and finished


def test_broker_cut_mid_crawl_delivers_every_event(
    site: LocalSite,
    database: Engine,
    queue: CrawlQueue,
    postgres_url: str,
    redis_url: str,
    rabbitmq_url: str,
    real_pages: Path,
) -> None:
    urls = add_distinct_tracklists(site.store, [(real_pages / PAGE).read_bytes()], 80)
    exchange = f"faults_{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    consumer_queue = channel.queue_declare(f"q_{exchange}", durable=True).method.queue
    channel.queue_bind(consumer_queue, exchange, routing_key="tracklist.#")
    broker = urlsplit(rabbitmq_url)
    try:
        with TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672) as proxy:
            for url in urls:
                queue.submit(url)
            env = crawl_env(
                site.base_url,
                postgres_url,
                redis_url,
                TRACKLIST_MQ_RABBITMQ_URL=rabbitmq_url.replace(f":{broker.port}", f":{proxy.port}"),
                TRACKLIST_MQ_EXCHANGE_NAME=exchange,
            )
            settings = {
                **FAST_LEASES,
                "TRACKLIST_CRAWL_QUEUE_KEY": queue.key,
                "MAX_IDLE_TIME_BEFORE_CLOSE": "6",
                "TRACKLIST_RELAY_IN_WORKER": "True",
            }
            worker = start_spider("worker", env, settings=settings)
            try:
                _wait(lambda: _statuses(database).get("done", 0) >= 20, timeout=120)
                proxy.cut()
                _wait(lambda: _statuses(database).get("done", 0) >= 50, timeout=120)
                time.sleep(1)
            finally:
                proxy.restore()
            _finish(worker, timeout=300)
        _assert_all_stored_once(database, 80, rows_per_page=14)
        with Session(database) as session:
            assert session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) == 0
            ids = {str(t.id) for t in session.scalars(select(Tracklist))}
        delivered = set()
        while True:
            method, _properties, body = channel.basic_get(consumer_queue, auto_ack=True)
            if method is None:
                break
            delivered.add(json.loads(body)["tracklist_id"])
        assert delivered == ids
    finally:
        channel.queue_delete(consumer_queue)
        delete_events_exchange(channel, exchange)
        connection.close()


def test_database_cut_mid_crawl_loses_no_item(
    site: LocalSite,
    database: Engine,
    queue: CrawlQueue,
    postgres_url: str,
    redis_url: str,
    real_pages: Path,
) -> None:
    _queue_tracklists(site, queue, real_pages, 120)
    db_url = make_url(postgres_url)
    with TcpProxy(db_url.host or "127.0.0.1", db_url.port or 5432) as proxy:
        proxied = db_url.set(port=proxy.port).render_as_string(hide_password=False)
        env = crawl_env(site.base_url, proxied, redis_url)
        settings = {
            **FAST_LEASES,
            "TRACKLIST_CRAWL_QUEUE_KEY": queue.key,
            "MAX_IDLE_TIME_BEFORE_CLOSE": "10",
        }
        worker = start_spider("worker", env, settings=settings)
        try:
            _wait(lambda: _statuses(database).get("done", 0) >= 20, timeout=120)
            proxy.cut()
            time.sleep(4)
        finally:
            proxy.restore()
        _finish(worker, timeout=300)
    _assert_all_stored_once(database, 120, rows_per_page=14)

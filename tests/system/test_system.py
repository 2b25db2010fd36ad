"""The whole service under load and faults: ``tracklists up`` with a crawl running.

PostgreSQL and RabbitMQ are reached through TCP proxies the test cuts and restores; Redis is
a private instance the test really restarts (losing everything in it). The machine's own
services are never stopped, so a failing test leaves nothing broken behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pika
import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from support.load import Load
from support.service import Up, free_port, wait_for
from support.tcpproxy import TcpProxy
from system_fixtures import PrivateRedis

from crawler.localsite import LocalSite, robots_txt
from crawler.localsite.synthetic import add_distinct_tracklists
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models import CrawlRequest, OutboxEvent, Tracklist, TracklistVersion

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
PAGE = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
TRACKLISTS = 120


@dataclass
class System:
    """A running service and the handles a test needs to hurt it and check on it."""

    up: Up
    engine: Engine  # direct, not through the proxy: the test's own view of the store
    queue: CrawlQueue
    urls: list[str]
    database_proxy: TcpProxy
    broker_proxy: TcpProxy
    redis_server: PrivateRedis
    channel: Any  # a consumer's channel on the real broker
    consumer_queue: str

    def statuses(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.execute(
                select(CrawlRequest.status, func.count()).group_by(CrawlRequest.status)
            )
            return {status: count for status, count in rows}

    def count(self, model: type) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def unsent(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) or 0

    def delivered(self) -> set[str]:
        found = set()
        while True:
            method, _properties, body = self.channel.basic_get(self.consumer_queue, auto_ack=True)
            if method is None:
                return found
            message = json.loads(body)
            if message["event_type"] == "tracklist.processed":
                found.add(message["tracklist_id"])

    def read_paths(self) -> list[str]:
        """What the load asks for: a search, and stored tracklists as they appear."""
        with Session(self.engine) as session:
            ids = [str(i) for i in session.scalars(select(Tracklist.id).limit(50))]
        return ["/api/v1/search/?query=bicep%20nts"] + [f"/api/v1/tracklist/{i}" for i in ids]


@pytest.fixture
def system(
    real_pages: Path,
    postgres_url: str,
    private_redis: PrivateRedis,
    rabbitmq_url: str,
    tmp_path: Path,
) -> Iterator[System]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    database = make_url(postgres_url)
    broker = urlsplit(rabbitmq_url)
    exchange = f"system_{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    consumer_queue = channel.queue_declare(f"q_{exchange}", durable=True).method.queue
    channel.queue_bind(consumer_queue, exchange, routing_key="tracklist.#")
    with (
        LocalSite.from_directories([real_pages], robots_txt=robots_txt(crawl_delay=None)) as site,
        TcpProxy(database.host or "127.0.0.1", database.port or 5432) as database_proxy,
        TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672) as broker_proxy,
    ):
        urls = add_distinct_tracklists(site.store, [(real_pages / PAGE).read_bytes()], TRACKLISTS)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
        env.update(
            TRACKLIST_ENVIRONMENT="test",
            TRACKLIST_DATA_DIR=str(tmp_path / "var"),
            TRACKLIST_API_HOST="127.0.0.1",
            TRACKLIST_API_PORT=str(port),
            TRACKLIST_API_WORKERS="2",
            TRACKLIST_API_RATE_LIMIT_ANONYMOUS="1000000/minute",
            TRACKLIST_JWT_SECRET="system-test-secret-" + "x" * 32,
            TRACKLIST_DATABASE_URL=database.set(port=database_proxy.port).render_as_string(
                hide_password=False
            ),
            TRACKLIST_REDIS_URL=private_redis.url,
            TRACKLIST_MQ_RABBITMQ_URL=rabbitmq_url.replace(
                f":{broker.port}", f":{broker_proxy.port}"
            ),
            TRACKLIST_MQ_EXCHANGE_NAME=exchange,
            TRACKLIST_SCRAPING_BASE_URL=site.base_url,
            TRACKLIST_SCRAPING_RATE_LIMIT_DELAY="0",
            TRACKLIST_WORKER_LEASE_SECONDS="4",
            TRACKLIST_WORKER_RENEW_INTERVAL="1",
            TRACKLIST_WORKER_REQUEUE_AFTER="5",
            TRACKLIST_WORKER_MAX_ATTEMPTS="20",
            TRACKLIST_LOG_FORMAT="text",
        )
        up = Up(env, port)
        client = redis.Redis.from_url(private_redis.url)
        try:
            wait_for(up.health, 90, up)
            yield System(
                up,
                engine,
                CrawlQueue(client, make_session_factory(engine)),
                urls,
                database_proxy,
                broker_proxy,
                private_redis,
                channel,
                consumer_queue,
            )
        finally:
            database_proxy.restore()
            broker_proxy.restore()
            up.stop()
            client.close()
            channel.queue_delete(consumer_queue)
            channel.exchange_delete(exchange)
            connection.close()
            engine.dispose()


def _start_load(system: System) -> Load:
    paths = system.read_paths()

    def path_for(number: int) -> str:
        if number % 50 == 0:  # pick up tracklists stored since the start
            paths[:] = system.read_paths()
        return paths[number % len(paths)]

    return Load("127.0.0.1", system.up.port, path_for, connections=32).start()


def _wait_until_all_stored(system: System, timeout: float) -> None:
    wait_for(
        lambda: system.statuses() == {"done": TRACKLISTS} and system.unsent() == 0,
        timeout,
        system.up,
    )


def test_reads_under_load_while_crawling(system: System) -> None:
    for url in system.urls:
        system.queue.submit(url)
    load = _start_load(system)
    try:
        time.sleep(60)
    finally:
        load.stop()
    _wait_until_all_stored(system, 180)
    print(f"\nload while crawling: {load.summary()}")
    errors = [s.status for s in load.samples if s.status == 0 or s.status >= 400]
    assert errors == []
    assert len(load.samples) > 1000


def test_faults_under_load_lose_nothing(system: System) -> None:
    for url in system.urls:
        system.queue.submit(url)
    load = _start_load(system)
    database_window: tuple[float, float] | None = None
    phases: dict[str, float] = {}
    try:
        wait_for(lambda: system.statuses().get("done", 0) >= 10, 60, system.up)
        # 1. The crawl worker is SIGKILLed; `up` starts a new one; leases bring its work back.
        worker = system.up.said(r"started worker \(pid (\d+)\)")
        assert worker is not None
        phases["worker killed"] = time.monotonic()
        os.kill(int(worker.group(1)), signal.SIGKILL)
        # 2. Redis restarts and comes back empty: the queue is rebuilt from the table.
        system.queue.redis.connection_pool.disconnect()
        phases["redis restart"] = time.monotonic()
        system.redis_server.restart(down_seconds=2)
        phases["redis back"] = time.monotonic()
        # 3. RabbitMQ is unreachable for 30 s: events wait in the outbox.
        phases["broker cut"] = time.monotonic()
        system.broker_proxy.cut()
        time.sleep(30)
        system.broker_proxy.restore()
        # 4. PostgreSQL goes away for 5 s mid-crawl: transactions are retried whole.
        started = time.monotonic()
        system.database_proxy.cut()
        time.sleep(5)
        system.database_proxy.restore()
        # Requests already in flight when the cut starts fail too; pools take a moment to reconnect.
        database_window = (started - 1.0, time.monotonic() + 2.0)
        _wait_until_all_stored(system, 240)
    finally:
        load.stop()
        system.database_proxy.restore()
        system.broker_proxy.restore()
    print(f"\nload through the faults: {load.summary()}")
    assert system.count(Tracklist) == TRACKLISTS
    assert system.count(TracklistVersion) == TRACKLISTS  # each stored once, never re-versioned
    with Session(system.engine) as session:
        stored = {str(i) for i in session.scalars(select(Tracklist.id))}
    assert system.delivered() == stored  # every event delivered (at least once)
    assert database_window is not None
    unexpected = [
        s
        for s in load.samples
        if (s.status >= 500 or s.status == 0)
        and not (s.status == 503 and database_window[0] <= s.at <= database_window[1])
    ]
    errors = [line for line in system.up.lines if "Error handling request" in line]
    assert unexpected == [], (
        f"{len(unexpected)} unexpected answers, first {unexpected[:3]}; phases {phases}; "
        f"service errors: {errors[:20]}"
    )
    assert system.up.said(r"worker exited with -9; restarting")

"""The system suite's pieces: a private Redis it can really restart, and the services around.

:func:`system` starts ``tracklists up`` on real PostgreSQL and RabbitMQ (through TCP proxies a
test can cut), the private Redis and a local copy of the site with :data:`TRACKLISTS` sets to
crawl. A test changes the service's settings with indirect parametrization::

    @pytest.mark.parametrize("system", [{"TRACKLIST_API_TRUSTED_PROXIES": "1"}], indirect=True)
"""

from __future__ import annotations

import json
import os
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
from support.private_redis import PrivateRedis, redis_server_available
from support.service import Up, free_port, wait_for
from support.tcpproxy import TcpProxy

from config.settings import load_settings
from crawler.localsite import LocalSite, robots_txt
from crawler.localsite.synthetic import add_distinct_tracklists
from messaging.consumers import Topology
from messaging.topology import declare_events_exchange
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models import CrawlRequest, OutboxEvent, Tracklist

PAGE = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
TRACKLISTS = 120


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis_server_available()
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


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
    request: pytest.FixtureRequest,
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
    assert declare_events_exchange(connection, exchange)  # as the service declares it
    channel = connection.channel()
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
            # The consumers `up` runs get queues of this test's own.
            TRACKLIST_MQ_SEARCH_QUEUE=f"{exchange}_search",
            TRACKLIST_MQ_RETRIEVAL_QUEUE=f"{exchange}_retrieval",
            TRACKLIST_MQ_FILES_QUEUE=f"{exchange}_files",
            TRACKLIST_SCRAPING_BASE_URL=site.base_url,
            TRACKLIST_SCRAPING_RATE_LIMIT_DELAY="0",
            TRACKLIST_WORKER_LEASE_SECONDS="4",
            TRACKLIST_WORKER_RENEW_INTERVAL="1",
            TRACKLIST_WORKER_REQUEUE_AFTER="5",
            TRACKLIST_WORKER_MAX_ATTEMPTS="20",
            TRACKLIST_LOG_FORMAT="text",
        )
        env.update(getattr(request, "param", {}))  # a test's own settings win
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
            Topology.from_settings(load_settings(env, env_file=None)).delete_all(channel)
            connection.close()
            engine.dispose()

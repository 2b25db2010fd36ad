"""``tracklists up``: one command brings the service up, embedded or on real services."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.service import Up, free_port, wait_for

from cli.up import browser_url, declare_mq_topology, hide_password, plan_children
from config.settings import Settings, load_settings
from crawler.localsite import LocalSite, robots_txt
from messaging.consumers import Topology
from messaging.topology import declare_events_exchange, unrouted_name
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.models import CrawlRequest, OutboxEvent

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    env.update(TRACKLIST_API_HOST="127.0.0.1", TRACKLIST_API_WORKERS="1")
    return env


def _embedded(base_env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], int]:
    """Settings of a machine with nothing installed: no database URL, Redis or RabbitMQ."""
    port = free_port()
    env = {
        **base_env,
        "TRACKLIST_DATA_DIR": str(tmp_path / "var"),
        "TRACKLIST_API_PORT": str(port),
        # Passwords the console must not show.
        "TRACKLIST_REDIS_URL": "redis://:redis-s3cret@127.0.0.1:1/0",
        "TRACKLIST_MQ_RABBITMQ_URL": "amqp://guest:mq-s3cret@127.0.0.1:1/",
    }
    return env, port


def test_embedded_mode_runs_with_nothing_installed(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    env, port = _embedded(base_env, tmp_path)
    up = Up(env, port)
    try:
        wait_for(up.health, 90, up)
        assert up.said(r"embedded SQLite")
        assert up.said(r"disabled: crawl worker: Redis unreachable")
        assert up.said(r"disabled: outbox relay: RabbitMQ unreachable")
        assert up.said(r"disabled: message-queue consumers \(search, retrieval, files\)")
        assert not up.said(r"started consumer-")
        assert (tmp_path / "var" / "tracklists.db").is_file()
        # What it uses and where, passwords hidden, and an address a browser can open.
        assert up.said(r"^\[up\] Redis redis://:\*\*\*@127\.0\.0\.1:1/0$")
        assert up.said(r"^\[up\] RabbitMQ amqp://guest:\*\*\*@127\.0\.0\.1:1/$")
        docs = f"http://127.0.0.1:{port}/api/v1/docs"
        assert up.said(rf"^\[up\] API on http://127\.0\.0\.1:{port}/api/v1, docs {docs} ")
        assert not up.said("s3cret")
        assert not up.said(r"RabbitMQ exchange .* declared")  # no broker, nothing declared
    finally:
        code = up.stop()
    assert code == 0
    assert up.said(r"\[up\] stopped")
    assert not up.health()


def test_hide_password_hides_only_the_password() -> None:
    assert hide_password("amqp://guest:guest@mq:5672/vh") == "amqp://guest:***@mq:5672/vh"
    assert hide_password("redis://:p%40ss@cache:6379/1") == "redis://:***@cache:6379/1"
    assert hide_password("rediss://user:a:b@cache/0?ssl=1") == "rediss://user:***@cache/0?ssl=1"
    assert hide_password("redis://cache:6379/0") == "redis://cache:6379/0"
    assert hide_password("unix:///run/redis.sock?db=1") == "unix:///run/redis.sock?db=1"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123/api/v1"),
        ("::", "http://127.0.0.1:8123/api/v1"),
        ("10.1.2.3", "http://10.1.2.3:8123/api/v1"),
        ("::1", "http://[::1]:8123/api/v1"),
    ],
)
def test_browser_url_is_one_a_browser_can_open(host: str, expected: str) -> None:
    assert browser_url(Settings(api_host=host, api_port=8123)) == expected


@pytest.fixture
def mq_names(rabbitmq_url: str) -> Iterator[Settings]:
    """Settings naming an exchange and queues of this test's own; deleted afterwards."""
    token = uuid.uuid4().hex[:10]
    settings = Settings(
        mq_rabbitmq_url=rabbitmq_url,
        mq_exchange_name=f"test_up_{token}",
        mq_search_queue=f"up_{token}_search",
        mq_retrieval_queue=f"up_{token}_retrieval",
        mq_files_queue=f"up_{token}_files",
    )
    yield settings
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        Topology.from_settings(settings).delete_all(connection.channel())
    finally:
        connection.close()


def test_up_declares_the_topology_with_the_unrouted_queue(
    mq_names: Settings, rabbitmq_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    declare_mq_topology(mq_names)
    said = capsys.readouterr().err
    exchange = mq_names.mq_exchange_name
    assert f"[up] RabbitMQ exchange {exchange} and its queues declared" in said
    assert f"[up] events no queue is bound for wait in queue {unrouted_name(exchange)}" in said
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for queue in (mq_names.mq_search_queue, f"{mq_names.mq_files_queue}.dead"):
            channel.queue_declare(queue, passive=True)  # fails if absent
        # An event nobody subscribed to is kept, not returned (mandatory would raise).
        channel.basic_publish(exchange, "tracklist.processed", b"{}", mandatory=True)
        assert channel.basic_get(unrouted_name(exchange), auto_ack=True)[0] is not None
    finally:
        connection.close()


def test_up_on_an_exchange_without_the_alternate_exchange_says_so(
    mq_names: Settings, rabbitmq_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exchange = mq_names.mq_exchange_name
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        connection.channel().exchange_declare(exchange, exchange_type="topic", durable=True)
    finally:
        connection.close()
    declare_mq_topology(mq_names)
    said = capsys.readouterr().err
    assert f"[up] RabbitMQ exchange {exchange} and its queues declared" in said
    assert f"[up] warning: exchange {exchange} exists without the alternate-exchange" in said


def test_demo_crawls_the_sample_sets_with_nothing_installed(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    from crawler.localsite.demo import DEMO_SETS
    from store.models import Tracklist

    env, port = _embedded(base_env, tmp_path)
    up = Up(env, port, "--demo")
    started = time.monotonic()
    try:
        wait_for(lambda: up.said(r"demo crawl finished \(exit 0\)"), 90, up)
        engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'tracklists.db'}")
        with Session(engine) as session:
            stored = set(session.scalars(select(Tracklist.site_id)))
        engine.dispose()
        assert stored == {demo.site_id for demo in DEMO_SETS}
        assert time.monotonic() - started < 60  # "within a minute"
        wait_for(up.health, 30, up)
    finally:
        code = up.stop()
    assert code == 0


def test_without_redis_the_retrieval_consumer_is_left_out(rabbitmq_url: str) -> None:
    settings = Settings(redis_url="redis://127.0.0.1:1/0", mq_rabbitmq_url=rabbitmq_url)
    children, disabled = plan_children(settings)
    assert [child.name for child in children] == [
        "api",
        "relay",
        "consumer-search",
        "consumer-files",
    ]
    assert [reason.split(":")[0] for reason in disabled] == ["crawl worker", "retrieval consumer"]


@pytest.fixture
def site(real_pages: Path) -> Iterator[LocalSite]:
    with LocalSite.from_directories([real_pages], robots_txt=robots_txt(crawl_delay=None)) as local:
        yield local


def test_full_mode_crawls_publishes_and_restarts_a_killed_worker(
    base_env: dict[str, str],
    site: LocalSite,
    postgres_url: str,
    redis_url: str,
    rabbitmq_url: str,
    real_pages: Path,
) -> None:
    import redis

    port = free_port()
    exchange = f"up_{uuid.uuid4().hex[:8]}"
    env = {
        **base_env,
        "TRACKLIST_API_PORT": str(port),
        "TRACKLIST_DATABASE_URL": postgres_url,
        "TRACKLIST_REDIS_URL": redis_url,
        "TRACKLIST_MQ_RABBITMQ_URL": rabbitmq_url,
        "TRACKLIST_MQ_EXCHANGE_NAME": exchange,
        # Queues of this test's own, so no other consumer on the broker takes its messages.
        "TRACKLIST_MQ_SEARCH_QUEUE": f"{exchange}_search",
        "TRACKLIST_MQ_RETRIEVAL_QUEUE": f"{exchange}_retrieval",
        "TRACKLIST_MQ_FILES_QUEUE": f"{exchange}_files",
        "TRACKLIST_SCRAPING_BASE_URL": site.base_url,
        "TRACKLIST_SCRAPING_RATE_LIMIT_DELAY": "0",
        "TRACKLIST_API_CRAWL_REQUIRES_AUTH": "false",
    }
    topology = Topology.from_settings(load_settings(env, env_file=None))
    engine = make_engine(postgres_url)
    # A consumer bound to the exchange, as the analysis service would be.
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    assert declare_events_exchange(connection, exchange)
    channel = connection.channel()
    consumer_queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(consumer_queue, exchange, routing_key="tracklist.#")
    up = Up(env, port)
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(up.health, 90, up)
        worker = up.said(r"started worker \(pid (\d+)\)")
        assert worker is not None
        assert up.said(r"started relay")
        assert up.said(rf"RabbitMQ exchange {exchange} and its queues declared")
        assert up.said(rf"events no queue is bound for wait in queue {exchange}\.unrouted")
        # A killed worker is restarted by the supervisor.
        os.kill(int(worker.group(1)), signal.SIGKILL)
        wait_for(lambda: up.said(r"worker exited with -9; restarting"), 30, up)
        wait_for(lambda: len([line for line in up.lines if "started worker" in line]) == 2, 30, up)

        expected = json.loads(
            (
                real_pages / "expected" / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.json"
            ).read_text()
        )
        # Queued through the API, as a client would.
        queued = requests.post(
            f"http://127.0.0.1:{port}/api/v1/tracklist",
            json={"url": expected["url"]},
            headers={"X-Request-ID": "up-trace-1"},
            timeout=30,
        )
        assert queued.status_code == 202, queued.text
        correlation_id = queued.json()["correlation_id"]

        def done() -> bool:
            with Session(engine) as session:
                state = session.scalar(
                    select(CrawlRequest.status).where(
                        CrawlRequest.correlation_id == uuid.UUID(correlation_id)
                    )
                )
                unsent = session.scalar(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(OutboxEvent.sent_at.is_(None))
                )
            return state == "done" and unsent == 0

        wait_for(done, 120, up)
        method, properties, _body = channel.basic_get(consumer_queue, auto_ack=True)
        assert method is not None
        assert properties.correlation_id == correlation_id
        # JSON log lines follow the crawl's correlation id from the API request (with its
        # request id) through the worker that stored the page to the relay that published it.
        queued_lines = _logged(up, "api", correlation_id)
        assert [line["request_id"] for line in queued_lines] == ["up-trace-1"]
        assert _logged(up, "crawler", correlation_id)
        assert _logged(up, "relay", correlation_id)

        # The search consumer answers a request on the bus with what was just crawled.
        for kind in ("search", "retrieval", "files"):
            assert up.said(rf"started consumer-{kind} \(pid \d+\)")
        wait_for(lambda: up.said(f"consuming {topology.queues['search'].name}"), 60, up)
        answer = _search_on_the_bus(channel, exchange, "bicep", "up-search-1", up)
        assert answer["event_type"] == "tracklist.search.result"
        assert expected["url"] in [result["url"] for result in answer["results"]]
        assert _logged(up, "consumer-search", "up-search-1")
    finally:
        code = up.stop()
        topology.delete_all(channel)
        connection.close()
        client.delete(CrawlQueue(client, make_session_factory(engine)).key)
        client.close()
        engine.dispose()
    assert code == 0
    assert up.said(r"stopping worker")
    for kind in ("search", "retrieval", "files"):
        assert up.said(rf"consumer-{kind} stopped \(exit 0\)")


def _logged(up: Up, component: str, correlation_id: str) -> list[dict[str, Any]]:
    """``component``'s JSON log lines about ``correlation_id``."""
    events = [json.loads(line) for line in list(up.lines) if line.startswith('{"time"')]
    return [
        event
        for event in events
        if event["component"] == component and event.get("correlation_id") == correlation_id
    ]


def _search_on_the_bus(
    channel: Any, exchange: str, query: str, correlation_id: str, up: Up
) -> dict[str, Any]:
    """Publish a ``tracklist.search`` request as another service would; its reply's body."""
    replies = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(replies, exchange, routing_key="tracklist.result")
    channel.basic_publish(
        exchange,
        "tracklist.search",
        json.dumps({"query": query}).encode(),
        pika.BasicProperties(
            message_id=str(uuid.uuid4()), correlation_id=correlation_id, delivery_mode=2
        ),
        mandatory=True,
    )
    found: list[dict[str, Any]] = []

    def replied() -> bool:
        method, properties, body = channel.basic_get(replies, auto_ack=True)
        if method is not None and properties.correlation_id == correlation_id:
            found.append(json.loads(body))
        return bool(found)

    wait_for(replied, 60, up)
    return found[0]

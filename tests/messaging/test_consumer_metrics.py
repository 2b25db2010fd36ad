"""A consumer's Prometheus metrics move with real deliveries: outcomes, processing time,
retries, dead letters by reason and queue depths, served over HTTP while it runs."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import pytest
from consumer_support import Broker, Running, make_topology, wait_until
from sqlalchemy import Engine
from support.tcpproxy import TcpProxy

from cli.consume import metrics_port
from config.settings import Settings
from messaging.consumers import build
from store.db import make_engine, make_session_factory


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            return str(answer.read().decode())
    except OSError:
        return ""


def test_deliveries_retries_and_dead_letters_are_counted(
    rabbitmq_url: str,
    postgres_url: str,
    database: Engine,  # migrates the database the consumer reaches through a proxy
) -> None:
    broker = Broker(rabbitmq_url, make_topology(max_retries=1, base_delay_seconds=0.2))
    target = urlsplit(postgres_url.replace("postgresql+psycopg", "http"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        engine = make_engine(postgres_url.replace(f":{target.port}/", f":{proxy.port}/"))
        settings = Settings(mq_rabbitmq_url=rabbitmq_url)
        consumer = build("search", settings, make_session_factory(engine), broker.topology)
        consumer.depth_interval = 0.2
        port = consumer.metrics.serve("127.0.0.1", 0)
        assert port is not None
        dead_queue = broker.topology.dead_queue(consumer.queue)
        try:
            broker.publish("tracklist.search", {"query": "cox"}, correlation_id="metrics-1")
            broker.publish("tracklist.search", b"{not json")
            with Running(consumer) as running:
                running.wait_for(2)
                proxy.cut()  # the database is gone: the next request fails, is retried, gives up
                broker.publish("tracklist.search", {"query": "cox"}, message_id="doomed")
                wait_until(lambda: consumer.outcomes.get("dead-lettered") == 1)
                wait_until(lambda: f'queue="{dead_queue}"}} 2.0' in _scrape(port))
                text = _scrape(port)
        finally:
            proxy.restore()
            consumer.metrics.close()
            engine.dispose()
            broker.close()
    for series in (
        'tracklists_consumer_messages_total{consumer="search",outcome="answered"} 1.0',
        'tracklists_consumer_messages_total{consumer="search",outcome="malformed"} 1.0',
        'tracklists_consumer_messages_total{consumer="search",outcome="retrying"} 1.0',
        'tracklists_consumer_messages_total{consumer="search",outcome="dead-lettered"} 1.0',
        'tracklists_consumer_retries_total{consumer="search"} 1.0',
        'tracklists_consumer_dead_letters_total{consumer="search",reason="malformed"} 1.0',
        'tracklists_consumer_dead_letters_total{consumer="search",reason="retries_exhausted"} 1.0',
        'tracklists_consumer_processing_seconds_count{consumer="search"} 4.0',
        f'tracklists_consumer_queue_depth{{queue="{consumer.queue}"}} 0.0',
        f'tracklists_consumer_queue_depth{{queue="{consumer.queue}.retry.1"}} 0.0',
    ):
        assert series in text, series
    assert _scrape(port) == ""  # closed with the consumer


@pytest.mark.parametrize(
    ("base", "kind", "expected"),
    [(9411, "search", 9411), (9411, "retrieval", 9412), (9411, "files", 9413), (0, "files", 0)],
)
def test_each_kind_has_its_own_metrics_port(base: int, kind: str, expected: int) -> None:
    assert metrics_port(base, kind) == expected


def test_metrics_port_minus_one_is_off() -> None:
    assert metrics_port(-1, "search") is None

"""The search consumer against the real RabbitMQ and PostgreSQL: good, duplicate, malformed,
crash before ack, retries then dead letter, broker outage."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import pika
import pytest
from consumer_support import (
    Broker,
    Running,
    dead_letters,
    entry,
    make_topology,
    outbox,
    processed,
    store_page,
    tracklist_page,
    wait_until,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from support.tcpproxy import TcpProxy

from config.settings import Settings
from messaging.consumers import Message, build
from messaging.consumers.runner import ERROR_HEADER, RETRY_HEADER
from messaging.relay import OutboxRelay, drain
from store.db import make_engine, make_session_factory
from store.models import ProcessedMessage

RESULT = "tracklist.search.result"


def _settings(rabbitmq_url: str) -> Settings:
    return Settings(mq_rabbitmq_url=rabbitmq_url, mq_prefetch_count=5)


@pytest.fixture
def cox_set(sessions: sessionmaker[Session]) -> str:
    page = tracklist_page(
        "srch0001",
        [("Carl Cox", "carlcox")],
        "2024-04-06",
        (entry(1, "A", "B", 0),),
        title="Carl Cox @ Time Warp 2024",
        event=("Time Warp", "time-warp"),
    )
    return str(store_page(sessions, page))


def test_a_search_is_answered_on_the_result_key_with_the_correlation_id(
    broker: Broker, sessions: sessionmaker[Session], cox_set: str, rabbitmq_url: str
) -> None:
    consumer = build("search", _settings(rabbitmq_url), sessions, broker.topology)
    channel = broker.connection.channel()
    replies = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(replies, broker.topology.exchange, routing_key="tracklist.result")
    broker.publish("tracklist.search", {"query": "carl COX", "limit": 5}, correlation_id="c-1")
    with Running(consumer) as running:
        assert running.wait_for(1) == {"answered": 1}
    [event] = outbox(sessions, RESULT)
    assert event.routing_key == "tracklist.result"
    assert event.correlation_id == "c-1"
    assert event.payload["query"] == "carl COX"
    assert event.payload["total"] == 1
    [result] = event.payload["results"]
    assert result["tracklist_id"] == cox_set
    assert (result["dj_name"], result["event_name"], result["date"]) == (
        "Carl Cox",
        "Time Warp",
        "2024-04-06",
    )
    # The relay delivers the reply to whoever listens on tracklist.result.
    relay = OutboxRelay(sessions, rabbitmq_url, broker.topology.exchange)
    try:
        drain(relay, 10)
    finally:
        relay.close()
    method, properties, body = channel.basic_get(replies, auto_ack=True)
    assert method is not None
    assert properties.correlation_id == "c-1"
    assert json.loads(body)["results"][0]["tracklist_id"] == cox_set


def test_search_by_event_and_paging(
    broker: Broker, sessions: sessionmaker[Session], cox_set: str, rabbitmq_url: str
) -> None:
    consumer = build("search", _settings(rabbitmq_url), sessions, broker.topology)
    broker.publish("tracklist.search", {"query": "time", "search_type": "event"})
    broker.publish("tracklist.search", {"query": "time", "search_type": "dj"})
    broker.publish("tracklist.search", {"query": "100%_"})
    with Running(consumer) as running:
        running.wait_for(3)
    totals = [event.payload["total"] for event in outbox(sessions, RESULT)]
    assert sorted(totals) == [0, 0, 1]


def test_a_duplicate_is_answered_once(
    broker: Broker, sessions: sessionmaker[Session], cox_set: str, rabbitmq_url: str
) -> None:
    consumer = build("search", _settings(rabbitmq_url), sessions, broker.topology)
    for _ in range(2):
        broker.publish("tracklist.search", {"query": "cox"}, message_id="same-id")
    with Running(consumer) as running:
        assert running.wait_for(2) == {"answered": 1, "duplicate": 1}
    assert len(outbox(sessions, RESULT)) == 1
    assert [row.message_id for row in processed(sessions, "search")] == ["same-id"]


def test_malformed_messages_are_dead_lettered_and_logged(
    broker: Broker,
    sessions: sessionmaker[Session],
    rabbitmq_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = build("search", _settings(rabbitmq_url), sessions, broker.topology)
    broker.publish("tracklist.search", b"{not json")
    broker.publish("tracklist.search", {"query": ""})
    broker.publish("tracklist.search", {"query": "x", "limit": 1000})
    broker.publish("tracklist.search", {"query": "x", "search_type": "planet"})
    with caplog.at_level(logging.WARNING), Running(consumer) as running:
        assert running.wait_for(4) == {"malformed": 4}
    dead = dead_letters(broker, "search")
    assert len(dead) == 4
    assert all("malformed" in str(props.headers[ERROR_HEADER]) for props, _ in dead)
    assert dead[0][1] == b"{not json"
    assert outbox(sessions, RESULT) == []
    assert sum("dead-lettering malformed" in r.getMessage() for r in caplog.records) == 4
    assert broker.depth(broker.topology.queues["search"].name) == 0


def test_a_crash_before_the_ack_redelivers_and_applies_once(
    broker: Broker, sessions: sessionmaker[Session], cox_set: str, rabbitmq_url: str
) -> None:
    consumer = build("search", _settings(rabbitmq_url), sessions, broker.topology)
    queue = broker.topology.queues["search"].name
    broker.publish("tracklist.search", {"query": "cox"}, correlation_id="c-crash")
    # Take the message and commit its effect, then lose the connection before acking.
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    method, properties, raw = connection.channel().basic_get(queue, auto_ack=False)
    assert method is not None
    assert consumer.apply(Message.decode(method.routing_key, properties, raw)) == "answered"
    connection.close()
    with Running(consumer) as running:
        assert running.wait_for(1) == {"duplicate": 1}
    assert len(outbox(sessions, RESULT)) == 1
    assert broker.depth(queue) == 0


def test_failures_are_retried_with_backoff_then_dead_lettered(
    rabbitmq_url: str, postgres_url: str, database: Engine
) -> None:
    broker = Broker(rabbitmq_url, make_topology(max_retries=2, base_delay_seconds=0.3))
    target = urlsplit(postgres_url.replace("postgresql+psycopg", "http"))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        proxied = postgres_url.replace(f":{target.port}/", f":{proxy.port}/")
        engine = make_engine(proxied)
        factory = make_session_factory(engine)
        try:
            consumer = build("search", _settings(rabbitmq_url), factory, broker.topology)
            proxy.cut()  # the database is unreachable: every attempt fails
            broker.publish("tracklist.search", {"query": "cox"}, message_id="doomed")
            with Running(consumer) as running:
                outcomes = running.wait_for(3)
            assert outcomes == {"retrying": 2, "dead-lettered": 1}
            [(properties, _body)] = dead_letters(broker, "search")
            assert properties.message_id == "doomed"
            assert properties.headers[RETRY_HEADER] == 2
            assert "OperationalError" in str(properties.headers[ERROR_HEADER])

            # A failure that heals: the first retry finds the database back.
            proxy.restore()
            engine.dispose()
            proxy.cut()
            broker.publish("tracklist.search", {"query": "cox"}, message_id="survivor")
            consumer.outcomes.clear()
            with Running(consumer) as running:
                wait_until(lambda: consumer.outcomes.get("retrying", 0) >= 1)
                proxy.restore()
                wait_until(lambda: consumer.outcomes.get("answered", 0) == 1)
            assert dead_letters(broker, "search") == []
        finally:
            engine.dispose()
            broker.close()
    engine = make_engine(postgres_url)
    with make_session_factory(engine)() as session:
        assert session.get(ProcessedMessage, ("search", "survivor")) is not None
    engine.dispose()


def test_the_consumer_reconnects_after_a_broker_outage(
    broker: Broker, sessions: sessionmaker[Session], cox_set: str, rabbitmq_url: str
) -> None:
    target = urlsplit(rabbitmq_url.replace("amqp", "http", 1))
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5672) as proxy:
        proxied = rabbitmq_url.replace(f":{target.port}/", f":{proxy.port}/")
        consumer = build("search", _settings(proxied), sessions, broker.topology)
        with Running(consumer) as running:
            broker.publish("tracklist.search", {"query": "cox"})
            running.wait_for(1)
            proxy.cut()
            broker.publish("tracklist.search", {"query": "carl"})
            proxy.restore()
            running.wait_for(2, timeout=40)
    assert len(outbox(sessions, RESULT)) == 2

"""The outbox relay against the real RabbitMQ: confirms, unrouted events, broker outages."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pika
import pika.exceptions
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from support.tcpproxy import TcpProxy

from messaging import topology
from messaging.relay import OutboxRelay, drain
from messaging.replay import replay_unrouted
from messaging.topology import declare_events_exchange, delete_events_exchange, unrouted_name
from store.db import make_session_factory, session_scope
from store.models import OutboxEvent, utcnow
from store.outbox import TRACKLIST_CATALOGED, TRACKLIST_PROCESSED, add_event


@pytest.fixture
def exchange(rabbitmq_url: str) -> Iterator[str]:
    name = f"test_exchange_{uuid.uuid4().hex[:10]}"
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    delete_events_exchange(connection.channel(), name)
    connection.close()


@pytest.fixture
def bound_queue(rabbitmq_url: str, exchange: str) -> Iterator[str]:
    """A queue bound to every routing key of the test exchange."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    assert declare_events_exchange(connection, exchange)
    channel = connection.channel()
    queue = channel.queue_declare(f"q_{exchange}", durable=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="#")
    yield queue
    channel.queue_delete(queue)
    connection.close()


def _received(
    rabbitmq_url: str, queue: str
) -> list[tuple[pika.BasicProperties, dict[str, object]]]:
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    messages = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        messages.append((properties, json.loads(body)))
    connection.close()
    return messages


def _add_events(
    factory: sessionmaker[Session], count: int, event_type: str = TRACKLIST_PROCESSED
) -> list[str]:
    with session_scope(factory) as session:
        events = [
            add_event(
                session,
                event_type,
                {"tracklist_id": str(uuid.uuid4()), "url": f"https://x/{n}", "track_count": n},
                correlation_id=f"corr-{n}",
            )
            for n in range(count)
        ]
        return [str(event_id) for event_id in events]


def _unsent(engine: Engine) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
            )
            or 0
        )


def test_publishes_committed_events_with_seed_payload(
    migrated_engine: Engine, rabbitmq_url: str, exchange: str, bound_queue: str
) -> None:
    factory = make_session_factory(migrated_engine)
    event_ids = _add_events(factory, 3)
    with session_scope(factory) as session:  # rolled back: must never be published
        add_event(session, "tracklist.processed", {"url": "never"})
        session.rollback()

    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    assert relay.run_once() == 3
    assert relay.run_once() == 0
    relay.close()

    messages = _received(rabbitmq_url, bound_queue)
    assert [properties.message_id for properties, _ in messages] == event_ids
    properties, body = messages[0]
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.correlation_id == "corr-0"
    assert body["event_type"] == "tracklist.processed"
    assert {"tracklist_id", "url", "track_count", "event_id", "occurred_at"} <= set(body)
    assert _unsent(migrated_engine) == 0


def _no_queue_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "messaging.relay"
        and record.levelno == logging.WARNING
        and "reach no queue" in record.getMessage()
    ]


def test_fresh_broker_drains_the_outbox_into_the_unrouted_queue(
    migrated_engine: Engine,
    rabbitmq_url: str,
    exchange: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing is bound to the exchange: a new broker where no consumer subscribed yet.
    factory = make_session_factory(migrated_engine)
    processed = _add_events(factory, 3)
    cataloged = _add_events(factory, 2, TRACKLIST_CATALOGED)
    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    with caplog.at_level(logging.WARNING, logger="messaging.relay"):
        assert relay.run_once() == 5
        assert _unsent(migrated_engine) == 0
        more = _add_events(factory, 4)  # a later batch: its key was warned about already
        assert relay.run_once() == 4
    relay.close()

    warnings = _no_queue_warnings(caplog)
    assert len(warnings) == 2  # one per routing key, not one per event
    assert any(TRACKLIST_PROCESSED in warning for warning in warnings)
    assert any(TRACKLIST_CATALOGED in warning for warning in warnings)
    assert all(unrouted_name(exchange) in warning for warning in warnings)
    waiting = _received(rabbitmq_url, unrouted_name(exchange))
    assert [properties.message_id for properties, _ in waiting] == processed + cataloged + more
    assert {body["event_type"] for _, body in waiting} == {TRACKLIST_PROCESSED, TRACKLIST_CATALOGED}


def test_replay_after_binding_a_queue_delivers_the_unrouted_events(
    migrated_engine: Engine, rabbitmq_url: str, exchange: str
) -> None:
    factory = make_session_factory(migrated_engine)
    processed = _add_events(factory, 3)
    _add_events(factory, 2, TRACKLIST_CATALOGED)
    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    assert drain(relay, timeout=30) == 5
    relay.close()

    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    # A consumer subscribes to one of the two keys only.
    queue = channel.queue_declare(f"late_{exchange}", durable=True).method.queue
    channel.queue_bind(queue, exchange, routing_key=TRACKLIST_PROCESSED)
    try:
        replayed = replay_unrouted(connection, exchange)
        assert replayed.moved == {TRACKLIST_PROCESSED: 3, TRACKLIST_CATALOGED: 2}
        assert replayed.still_unrouted == {TRACKLIST_CATALOGED}
        assert (replayed.delivered, replayed.returned) == (3, 2)
        delivered = _received(rabbitmq_url, queue)
        # The same messages: ids kept (consumers de-duplicate on them), order kept.
        assert [properties.message_id for properties, _ in delivered] == processed
        assert delivered[0][0].correlation_id == "corr-0"
        assert delivered[0][0].delivery_mode == 2
        still = _received(rabbitmq_url, unrouted_name(exchange))
        assert {body["event_type"] for _, body in still} == {TRACKLIST_CATALOGED}
        assert len(still) == 2
    finally:
        channel.queue_delete(queue)
        connection.close()


def test_a_full_unrouted_queue_keeps_the_rest_in_the_outbox(
    migrated_engine: Engine,
    rabbitmq_url: str,
    exchange: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tiny bound for this test's own queue; overflow is reject-publish, never drop-head.
    monkeypatch.setattr(topology, "UNROUTED_MAX_LENGTH", 2)
    factory = make_session_factory(migrated_engine)
    event_ids = _add_events(factory, 6)
    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    with caplog.at_level(logging.WARNING, logger="messaging.relay"):
        published = relay.run_once()
    relay.close()
    # A quorum queue's bound is soft: it takes one more before it refuses.
    assert 2 <= published <= 3
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1  # once for the routing key, not per refused event
    assert f"{unrouted_name(exchange)} full" in refused[0]
    with Session(migrated_engine) as session:
        kept = session.scalars(select(OutboxEvent).where(OutboxEvent.sent_at.is_(None))).all()
        assert all("NackError" in (row.last_error or "") for row in kept)
        kept_ids = {str(row.event_id) for row in kept}
    waiting = {p.message_id for p, _ in _received(rabbitmq_url, unrouted_name(exchange))}
    # Every event is in the unrouted queue or still in the outbox: none dropped.
    assert waiting | kept_ids == set(event_ids)
    assert len(waiting) == published


def test_routed_events_raise_no_warning(
    migrated_engine: Engine,
    rabbitmq_url: str,
    exchange: str,
    bound_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = make_session_factory(migrated_engine)
    _add_events(factory, 3)
    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    with caplog.at_level(logging.WARNING, logger="messaging.relay"):
        assert relay.run_once() == 3
    relay.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(_received(rabbitmq_url, bound_queue)) == 3
    assert _received(rabbitmq_url, unrouted_name(exchange)) == []


def test_an_exchange_without_the_alternate_exchange_keeps_unroutable_events_in_the_outbox(
    migrated_engine: Engine,
    rabbitmq_url: str,
    exchange: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Declared before (or by another service) without the argument: kept as it is.
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    factory = make_session_factory(migrated_engine)
    _add_events(factory, 3)
    relay = OutboxRelay(factory, rabbitmq_url, exchange)
    with caplog.at_level(logging.WARNING, logger="messaging.relay"):
        assert relay.run_once() == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # pika's line per returned message is dropped too: the flood this replaces.
    assert len(warnings) == 2, warnings  # the exchange's missing argument, then the key once
    assert "without the alternate-exchange argument" in warnings[0]
    assert "rabbitmqctl set_policy" in warnings[0]
    assert TRACKLIST_PROCESSED in warnings[1]
    with Session(migrated_engine) as session:
        rows = session.scalars(select(OutboxEvent)).all()
        assert all(row.sent_at is None and row.next_attempt_at is not None for row in rows)
        assert all("UnroutableError" in (row.last_error or "") for row in rows)
    assert relay.run_once() == 0  # not due yet: no busy loop on unroutable rows

    queue = channel.queue_declare(f"late_{exchange}", durable=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="tracklist.*")
    try:
        with session_scope(factory) as session:
            session.execute(
                update(OutboxEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        assert relay.run_once() == 3
        relay.close()
        assert len(_received(rabbitmq_url, queue)) == 3
    finally:
        channel.queue_delete(queue)
        connection.close()


def test_broker_down_keeps_events_until_it_returns(
    migrated_engine: Engine, rabbitmq_url: str, exchange: str, bound_queue: str
) -> None:
    factory = make_session_factory(migrated_engine)
    event_ids = _add_events(factory, 5)
    broker = urlsplit(rabbitmq_url)
    with TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672) as proxy:
        proxied = rabbitmq_url.replace(f":{broker.port}", f":{proxy.port}")
        relay = OutboxRelay(factory, proxied, exchange)
        proxy.cut()
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            relay.run_once()
        assert _unsent(migrated_engine) == 5
        proxy.restore()
        assert drain(relay, timeout=30) == 5
        relay.close()
    received = {properties.message_id for properties, _ in _received(rabbitmq_url, bound_queue)}
    assert received == set(event_ids)


@pytest.mark.slow
def test_broker_cut_mid_stream_loses_nothing(
    postgres_url: str, rabbitmq_url: str, exchange: str, bound_queue: str
) -> None:
    from store.db import make_engine
    from store.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    event_ids = _add_events(factory, 1500)
    broker = urlsplit(rabbitmq_url)
    stop = threading.Event()
    with TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672) as proxy:
        relay = OutboxRelay(
            factory, rabbitmq_url.replace(f":{broker.port}", f":{proxy.port}"), exchange
        )
        worker = threading.Thread(target=relay.run_forever, args=(stop, 0.1), daemon=True)
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while relay.published < 300 and time.monotonic() < deadline:
                time.sleep(0.01)
            proxy.cut()
            time.sleep(1.5)
            proxy.restore()
            while _unsent(engine) and time.monotonic() < deadline + 60:
                time.sleep(0.2)
        finally:
            stop.set()
            worker.join(timeout=30)
            proxy.restore()
    engine.dispose()
    received = [properties.message_id for properties, _ in _received(rabbitmq_url, bound_queue)]
    assert set(received) == set(event_ids)  # at least once: duplicates allowed, losses not


def test_run_forever_beats_every_round_even_when_the_broker_is_down(
    migrated_engine: Engine,
) -> None:
    relay = OutboxRelay(
        make_session_factory(migrated_engine), "amqp://guest:guest@127.0.0.1:1/", "x"
    )
    beats: list[float] = []
    stop = threading.Event()
    worker = threading.Thread(
        target=relay.run_forever, args=(stop, 0.05, lambda: beats.append(time.time()))
    )
    worker.start()
    time.sleep(1.5)
    stop.set()
    worker.join(timeout=10)
    assert len(beats) >= 1
    assert not worker.is_alive()

"""The retrieval consumer against real RabbitMQ, PostgreSQL and Redis: a crawl is queued as
``POST /tracklist`` queues it, once per message however often it is delivered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pika
import pytest
import redis
from consumer_support import (
    Broker,
    Running,
    dead_letters,
    entry,
    outbox,
    store_page,
    tracklist_page,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from messaging.consumers import Consumer, Message, build
from store.crawl_queue import CrawlJob
from store.models import CrawlRequest

RESULT = "tracklist.retrieval.result"
URL = "https://www.1001tracklists.com/tracklist/2abc3def/some-dj-some-club-2024-01-01.html"


@pytest.fixture
def queue_key(redis_url: str) -> Iterator[str]:
    key = f"test:consumer:crawl:{uuid.uuid4().hex[:8]}"
    yield key
    redis.Redis.from_url(redis_url).delete(key)


@pytest.fixture
def consumer(
    broker: Broker,
    sessions: sessionmaker[Session],
    rabbitmq_url: str,
    redis_url: str,
    queue_key: str,
) -> Consumer:
    settings = Settings(mq_rabbitmq_url=rabbitmq_url, redis_url=redis_url)
    return build("retrieval", settings, sessions, broker.topology, crawl_queue_key=queue_key)


def _requests(sessions: sessionmaker[Session]) -> list[CrawlRequest]:
    with sessions() as session:
        return list(session.scalars(select(CrawlRequest)))


def _queued(redis_url: str, key: str) -> list[CrawlJob]:
    return [CrawlJob.from_message(m) for m in redis.Redis.from_url(redis_url).lrange(key, 0, -1)]


def test_a_request_queues_a_crawl_and_replies_with_its_correlation_id(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    redis_url: str,
    queue_key: str,
) -> None:
    wanted = str(uuid.uuid4())
    # Not canonical (http, upper case, a query): queued as the API would, canonical.
    broker.publish(
        "tracklist.retrieve",
        {"url": URL.replace("https", "http").replace("some-dj", "Some-DJ") + "?x=1"},
        correlation_id=wanted,
    )
    with Running(consumer) as running:
        assert running.wait_for(1) == {"queued": 1}
    [request] = _requests(sessions)
    assert (str(request.correlation_id), request.url, request.status) == (wanted, URL, "queued")
    assert request.requested_by == "mq"
    assert [job.correlation_id for job in _queued(redis_url, queue_key)] == [wanted]
    [reply] = outbox(sessions, RESULT)
    assert reply.routing_key == "tracklist.result"
    assert reply.correlation_id == wanted
    assert reply.payload["status"] == "queued"
    assert reply.payload["correlation_id"] == wanted


def test_a_fresh_stored_tracklist_is_done_at_once_and_active_requests_are_reused(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    redis_url: str,
    queue_key: str,
) -> None:
    page = tracklist_page("fresh001", [("A", "a")], "2024-01-01", (entry(1, "A", "B", 0),))
    stored = store_page(sessions, page)
    broker.publish("tracklist.retrieve", {"url": page.url})
    broker.publish("tracklist.retrieve", {"url": URL})
    broker.publish("tracklist.retrieve", {"url": URL})  # same page, another message
    with Running(consumer) as running:
        assert running.wait_for(3) == {"done": 1, "queued": 2}
    replies = [event.payload for event in outbox(sessions, RESULT)]
    assert replies[0]["tracklist_id"] == str(stored)
    assert replies[1]["correlation_id"] == replies[2]["correlation_id"]
    assert len(_requests(sessions)) == 1
    assert len(_queued(redis_url, queue_key)) == 1


def test_a_duplicate_queues_nothing_more(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    redis_url: str,
    queue_key: str,
) -> None:
    for _ in range(2):
        broker.publish(
            "tracklist.retrieve", {"url": URL, "force_refresh": True}, message_id="twice"
        )
    with Running(consumer) as running:
        assert running.wait_for(2) == {"queued": 1, "duplicate": 1}
    assert len(_requests(sessions)) == 1
    assert len(_queued(redis_url, queue_key)) == 1
    assert len(outbox(sessions, RESULT)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://evil.example/tracklist/2abc3def/x.html"},
        {"url": "http://127.0.0.1:6379/tracklist/1/x.html"},
        {"url": "https://www.1001tracklists.com/dj/someone/index.html"},
        {"url": URL, "force_refresh": "yes"},
        {"link": URL},
    ],
)
def test_malformed_requests_are_dead_lettered(
    broker: Broker, consumer: Consumer, sessions: sessionmaker[Session], body: dict[str, object]
) -> None:
    broker.publish("tracklist.retrieve", body)
    with Running(consumer) as running:
        assert running.wait_for(1) == {"malformed": 1}
    [(_properties, raw)] = dead_letters(broker, "retrieval")
    assert json.loads(raw) == body
    assert _requests(sessions) == []
    assert outbox(sessions, RESULT) == []


def test_a_crash_before_the_ack_redelivers_and_queues_once(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    rabbitmq_url: str,
    redis_url: str,
    queue_key: str,
) -> None:
    queue = broker.topology.queues["retrieval"].name
    broker.publish("tracklist.retrieve", {"url": URL}, message_id="crash-1")
    broker.publish("tracklist.retrieve", {"url": URL, "force_refresh": True}, message_id="crash-2")
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    # crash-1: committed, never acked. crash-2: the crawl queued, then the process died
    # before its transaction committed.
    method, properties, raw = channel.basic_get(queue, auto_ack=False)
    assert consumer.apply(Message.decode(method.routing_key, properties, raw)) == "queued"
    method, properties, raw = channel.basic_get(queue, auto_ack=False)
    consumer.handler.prepare(Message.decode(method.routing_key, properties, raw))
    connection.close()
    with Running(consumer) as running:
        assert running.wait_for(2) == {"duplicate": 1, "queued": 1}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CrawlRequest)) == 2
    assert len(_queued(redis_url, queue_key)) == 2
    assert len(outbox(sessions, RESULT)) == 2
    assert broker.depth(queue) == 0

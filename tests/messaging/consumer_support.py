"""What the consumer tests share: a private topology on the real broker, a consumer thread,
stored tracklists, and reading queues and the outbox."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pika
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem
from crawler.pages.types import NamedLink, TrackEntry, TracklistPage
from messaging.consumers import Consumer, QueueSpec, Topology
from pipelines.persist import store_tracklist
from store.db import make_engine, make_session_factory, run_transaction
from store.migrate import upgrade
from store.models import OutboxEvent, ProcessedMessage

SITE = "https://www.1001tracklists.com"


@dataclass
class Broker:
    """A topology of the test's own on the real RabbitMQ, deleted afterwards."""

    url: str
    topology: Topology
    connection: pika.BlockingConnection = field(init=False)

    def __post_init__(self) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(self.url))
        channel = self.connection.channel()
        self.topology.declare_all(channel)

    def publish(
        self,
        routing_key: str,
        body: dict[str, Any] | bytes,
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Publish (confirmed) to the test exchange; returns the message id."""
        message_id = message_id or str(uuid.uuid4())
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        channel = self.connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            self.topology.exchange,
            routing_key,
            raw,
            pika.BasicProperties(
                message_id=message_id, correlation_id=correlation_id, delivery_mode=2
            ),
            mandatory=True,
        )
        channel.close()
        return message_id

    def drain(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        """Every message waiting in ``queue`` (acknowledged)."""
        channel = self.connection.channel()
        found = []
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            found.append((properties, body))
        channel.close()
        return found

    def depth(self, queue: str) -> int:
        """Messages ready in ``queue``."""
        channel = self.connection.channel()
        count = int(channel.queue_declare(queue, passive=True).method.message_count)
        channel.close()
        return count

    def close(self) -> None:
        """Delete everything the test declared."""
        self.topology.delete_all(self.connection.channel())
        self.connection.close()


def make_topology(max_retries: int = 2, base_delay_seconds: float = 0.2) -> Topology:
    """Unique names for every exchange and queue of one test."""
    token = uuid.uuid4().hex[:10]
    return Topology(
        exchange=f"test_consumers_{token}",
        queues={
            "search": QueueSpec(f"t_{token}_search", ("tracklist.search",)),
            "retrieval": QueueSpec(f"t_{token}_retrieval", ("tracklist.retrieve",)),
            "files": QueueSpec(f"t_{token}_files", ("file.changed",)),
        },
        max_retries=max_retries,
        base_delay_seconds=base_delay_seconds,
    )


@pytest.fixture
def broker(rabbitmq_url: str) -> Iterator[Broker]:
    """A private topology with 2 retries, 0.2 s apart at first."""
    found = Broker(rabbitmq_url, make_topology())
    yield found
    found.close()


@pytest.fixture
def database(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database of the test's own."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(database: Engine) -> sessionmaker[Session]:
    """Sessions on :func:`database`."""
    return make_session_factory(database)


class Running:
    """A consumer's loop in a thread, stopped on exit."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=consumer.run_forever, args=(self.stop,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()

    def wait_for(self, count: int, timeout: float = 20.0) -> dict[str, int]:
        """Wait until ``count`` deliveries were handled; returns the outcomes."""
        wait_until(lambda: sum(self.consumer.outcomes.values()) >= count, timeout)
        return dict(self.consumer.outcomes)


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.05)


def outbox(sessions: sessionmaker[Session], event_type: str) -> list[OutboxEvent]:
    """Outbox rows of one type, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.event_type == event_type)
                .order_by(OutboxEvent.id)
            )
        )


def processed(sessions: sessionmaker[Session], consumer: str) -> list[ProcessedMessage]:
    """What ``consumer`` recorded as applied."""
    with sessions() as session:
        return list(
            session.scalars(select(ProcessedMessage).where(ProcessedMessage.consumer == consumer))
        )


def dead_letters(broker: Broker, kind: str) -> list[tuple[pika.BasicProperties, bytes]]:
    """The messages dead-lettered from ``kind``'s queue."""
    return broker.drain(broker.topology.dead_queue(broker.topology.queues[kind].name))


def entry(row: int, artist: str, title: str, cue_ms: int | None) -> TrackEntry:
    """One identified row."""
    return TrackEntry(
        row=row,
        position=row,
        played_with_previous=False,
        cue_ms=cue_ms,
        display=f"{artist} - {title}",
        artist=artist,
        title=title,
        version=None,
        label=None,
        is_id=False,
    )


def tracklist_page(
    site_id: str,
    djs: list[tuple[str, str]],
    set_date: str | None,
    entries: tuple[TrackEntry, ...],
    *,
    title: str | None = None,
    event: tuple[str, str] | None = None,
) -> TracklistPage:
    """A parsed page as the parsers would produce it; ``djs`` and ``event`` as (name, slug)."""
    sources = ()
    if event is not None:
        sources = (NamedLink(event[0], f"{SITE}/source/{site_id}s/{event[1]}/index.html"),)
    return TracklistPage(
        tracklist_id=site_id,
        url=f"{SITE}/tracklist/{site_id}/{site_id}-set.html",
        title=title or " & ".join(name for name, _ in djs) + f" {set_date or ''}",
        djs=tuple(NamedLink(name, f"{SITE}/dj/{slug}/index.html") for name, slug in djs),
        sources=sources,
        date=set_date,
        genres=("Techno",),
        entries=entries,
    )


def store_page(sessions: sessionmaker[Session], page: TracklistPage) -> uuid.UUID:
    """Store ``page`` as a crawl would; returns the tracklist id."""
    item = TracklistItem(
        page=page,
        fetched_url=page.url or SITE,
        html_sha256=hashlib.sha256(repr(page).encode()).hexdigest(),
        fetched_at=datetime.now(UTC),
    )
    return run_transaction(sessions, lambda session: store_tracklist(session, item)).tracklist_id

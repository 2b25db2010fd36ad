"""``tracklists relay --once`` publishes the outbox, and fails clearly without a broker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pika
import pytest

from messaging.topology import declare_events_exchange, delete_events_exchange
from store.db import make_engine, make_session_factory, session_scope
from store.migrate import upgrade
from store.outbox import add_event

pytestmark = pytest.mark.programs


def _run(
    database_url: str, amqp_url: str, exchange: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TRACKLIST_DATABASE_URL": database_url,
        "TRACKLIST_MQ_RABBITMQ_URL": amqp_url,
        "TRACKLIST_MQ_EXCHANGE_NAME": exchange,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "relay", "--once", "--timeout", "20"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_relay_once_publishes_pending_events(
    sqlite_url: str, rabbitmq_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        add_event(session, "tracklist.processed", {"url": "https://x/1", "track_count": 1})
    engine.dispose()
    exchange = f"cli_{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    assert declare_events_exchange(connection, exchange)  # as the service declares it
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="tracklist.#")
    try:
        result = _run(sqlite_url, rabbitmq_url, exchange, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "published 1 event(s)" in result.stdout
        method, _properties, _body = channel.basic_get(queue, auto_ack=True)
        assert method is not None
    finally:
        delete_events_exchange(channel, exchange)
        connection.close()


def test_relay_once_without_broker_fails_clearly(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    result = _run(sqlite_url, "amqp://guest:guest@127.0.0.1:1/", "x", tmp_path)
    assert result.returncode == 1
    assert "broker unavailable" in result.stderr

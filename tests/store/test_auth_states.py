"""The token-standing cache: a database answer never overwrites a published change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from store import auth_states
from store.auth_states import REVOKED, AuthStates


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    value = f"tltest:{uuid.uuid4().hex[:12]}:auth:"
    yield value
    keys = list(client.scan_iter(match=f"{value}*"))
    if keys:
        client.unlink(*keys)


def test_a_late_database_answer_loses_to_a_published_change(
    client: redis.Redis, prefix: str
) -> None:
    states = AuthStates(client, prefix, ttl_seconds=60)
    # A request read "ok" before the logout committed, and fills after its publication.
    assert states.publish({"jti:a": REVOKED})
    states.fill({"jti:a": "ok", "jti:b": "ok"})
    assert states.lookup(["jti:a", "jti:b", "jti:c"]) == [REVOKED, "ok", None]
    # A change published after a fill replaces it.
    assert states.publish({"jti:b": REVOKED})
    assert states.lookup(["jti:b"]) == [REVOKED]
    assert 0 < client.ttl(f"{prefix}jti:b") <= 60


def test_without_redis_every_entry_is_a_miss_and_reads_pause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(auth_states, "RECOVERY_CHECK_SECONDS", 60.0)
    dead = redis.Redis(port=1, socket_connect_timeout=0.5)
    states = AuthStates(dead, "x:", ttl_seconds=60)
    assert states.lookup(["jti:a", "user:1"]) == [None, None]
    assert "answering from the database" in caplog.text
    caplog.clear()
    assert states.lookup(["jti:a"]) == [None]  # paused: no second connection attempt
    assert caplog.text == ""
    assert states.publish({"jti:a": REVOKED}) is False  # writes are always tried
    assert AuthStates(None, "x:", ttl_seconds=60).publish({"jti:a": REVOKED}) is True

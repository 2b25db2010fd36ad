"""Heartbeats: workers in Redis (expiring), the relay in a file."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import redis

from store import heartbeats


def test_worker_heartbeats_expire_and_can_be_filtered_by_host(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:heartbeat:"
    host = f"host-{uuid.uuid4().hex[:6]}"
    try:
        heartbeats.beat(client, prefix, f"{host}:1:a", ttl_seconds=30)
        heartbeats.beat(client, prefix, f"{host}:2:b", ttl_seconds=0.2)
        heartbeats.beat(client, prefix, f"other-{host}:3:c", ttl_seconds=30)
        alive = heartbeats.live_workers(client, prefix, host=host)
        assert set(alive) == {f"{host}:1:a", f"{host}:2:b"}
        assert abs(alive[f"{host}:1:a"] - time.time()) < 5
        time.sleep(0.4)
        assert set(heartbeats.live_workers(client, prefix, host=host)) == {f"{host}:1:a"}
        heartbeats.forget(client, prefix, f"{host}:1:a")
        assert heartbeats.live_workers(client, prefix, host=host) == {}
    finally:
        heartbeats.forget(client, prefix, f"other-{host}:3:c")
        assert heartbeats.live_workers(client, prefix) == {}
        client.close()


def test_file_heartbeat_age(tmp_path: Path) -> None:
    beat = tmp_path / "sub" / "relay.heartbeat"
    assert heartbeats.age_seconds(beat) is None
    heartbeats.touch(beat)
    age = heartbeats.age_seconds(beat)
    assert age is not None
    assert 0 <= age < 5

"""``tracklists health --component worker|relay`` for container health checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import redis

from store import heartbeats


def _health(component: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", "health", "--component", component],
        env={**base, **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )


def test_worker_health_follows_this_hosts_heartbeat(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:heartbeat:"  # no other run's workers in sight
    env = {"TRACKLIST_REDIS_URL": redis_url, "TRACKLIST_WORKER_HEARTBEAT_KEY_PREFIX": prefix}
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    try:
        assert _health("worker", env).returncode == 1
        heartbeats.beat(client, prefix, "elsewhere:1:x", ttl_seconds=30)  # another machine's
        assert _health("worker", env).returncode == 1
        heartbeats.beat(client, prefix, worker_id, ttl_seconds=30)
        alive = _health("worker", env)
        assert alive.returncode == 0, alive.stderr
        assert "1 crawl worker(s) alive" in alive.stdout
    finally:
        heartbeats.forget(client, prefix, worker_id)
        heartbeats.forget(client, prefix, "elsewhere:1:x")
        client.close()


def test_worker_health_without_redis_fails_clearly() -> None:
    result = _health("worker", {"TRACKLIST_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    assert "cannot reach Redis" in result.stderr


def test_relay_health_follows_its_heartbeat_file(tmp_path: Path) -> None:
    env = {"TRACKLIST_DATA_DIR": str(tmp_path)}
    assert _health("relay", env).returncode == 1
    heartbeats.touch(tmp_path / "relay.heartbeat")
    result = _health("relay", env)
    assert result.returncode == 0, result.stderr
    old = tmp_path / "relay.heartbeat"
    os.utime(old, (1, 1))  # a relay that stopped long ago
    assert _health("relay", env).returncode == 1

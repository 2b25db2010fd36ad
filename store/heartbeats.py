"""Liveness of long-running processes: crawl workers beat in Redis, the relay in a file.

Workers may run on several machines, so their heartbeats live in Redis (a key per worker that
expires when beats stop); ``/admin/health`` lists them. The relay needs no Redis, so it touches
a file that a container health check reads on the same machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import redis

# Keys are ``<prefix><worker id>``; the prefix is TRACKLIST_WORKER_HEARTBEAT_KEY_PREFIX, so
# several deployments (or test runs) can share one Redis without seeing each other's workers.


def beat(client: redis.Redis, prefix: str, worker_id: str, ttl_seconds: float) -> None:
    """Record that ``worker_id`` is alive; the key expires ``ttl_seconds`` after the last beat."""
    client.set(prefix + worker_id, f"{time.time():.3f}", px=int(ttl_seconds * 1000))


def forget(client: redis.Redis, prefix: str, worker_id: str) -> None:
    """A cleanly stopped worker removes its heartbeat at once (a killed one's expires)."""
    client.delete(prefix + worker_id)


def live_workers(client: redis.Redis, prefix: str, host: str | None = None) -> dict[str, float]:
    """Workers with a current heartbeat (optionally only on ``host``): id -> last beat (epoch s)."""
    pattern = prefix + (f"{host}:*" if host else "*")
    keys = list(client.scan_iter(match=pattern, count=500))
    if not keys:
        return {}
    values = client.mget(keys)
    found: dict[str, float] = {}
    for key, value in zip(keys, values, strict=True):
        if value is not None:  # expired between SCAN and MGET
            name = key.decode() if isinstance(key, bytes) else str(key)
            found[name.removeprefix(prefix)] = float(value)
    return found


def touch(path: Path) -> None:
    """Mark a file-based heartbeat (creating its folder on first use)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def age_seconds(path: Path) -> float | None:
    """Seconds since the file heartbeat was touched, or None if it never was."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None

"""Shared windows in Redis: small limits counted exactly, large ones in leases never above them."""

from __future__ import annotations

import time
import uuid

import redis
from limits import parse

from store.rate_leases import RedisWindows, lease_size


def _windows(client: redis.Redis, prefix: str) -> RedisWindows:
    # Each "process" has its own client and book of leases.
    return RedisWindows(redis.Redis(connection_pool=client.connection_pool), prefix)


def _counter(client: redis.Redis, prefix: str) -> int:
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    assert len(keys) == 1
    return int(client.get(keys[0]) or 0)


def test_small_limits_are_counted_one_by_one(redis_server: redis.Redis) -> None:
    prefix = f"test-leases-{uuid.uuid4().hex}"
    limit = parse("5/minute")
    assert lease_size(limit) == 1
    windows = _windows(redis_server, prefix)
    assert [windows.hit(limit, "ip:a") for _ in range(5)] == [None] * 5
    assert _counter(redis_server, prefix) == 5
    refused = windows.hit(limit, "ip:a")
    assert refused is not None
    assert 1 <= refused <= 60


def test_a_large_limit_costs_one_round_trip_per_lease(redis_server: redis.Redis) -> None:
    prefix = f"test-leases-{uuid.uuid4().hex}"
    limit = parse("1000/minute")
    windows = _windows(redis_server, prefix)
    assert windows.hit(limit, "user:1") is None
    assert _counter(redis_server, prefix) == 10  # a lease of 1000 / 100
    for _ in range(9):
        assert windows.hit(limit, "user:1") is None
    assert _counter(redis_server, prefix) == 10  # spent locally
    assert windows.hit(limit, "user:1") is None
    assert _counter(redis_server, prefix) == 20


def test_processes_together_never_exceed_the_limit(redis_server: redis.Redis) -> None:
    prefix = f"test-leases-{uuid.uuid4().hex}"
    limit = parse("250/minute")  # leases of 2
    processes = [_windows(redis_server, prefix) for _ in range(3)]
    allowed = sum(processes[n % 3].hit(limit, "user:1") is None for n in range(400))
    assert allowed == 250  # the last lease is cut to what is left
    assert _counter(redis_server, prefix) == 250


def test_a_lease_ends_with_its_window(redis_server: redis.Redis) -> None:
    prefix = f"test-leases-{uuid.uuid4().hex}"
    limit = parse("300/second")  # leases of 3
    windows = _windows(redis_server, prefix)
    assert windows.hit(limit, "user:1") is None  # takes 3, spends 1
    time.sleep(1.2)  # the window, and the 2 left, are gone
    assert windows.hit(limit, "user:1") is None
    assert _counter(redis_server, prefix) == 3  # a new window's first lease

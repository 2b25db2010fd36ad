"""The whole service under load and faults: ``tracklists up`` with a crawl running.

PostgreSQL and RabbitMQ are reached through TCP proxies the test cuts and restores; Redis is
a private instance the test really restarts (losing everything in it). The machine's own
services are never stopped, so a failing test leaves nothing broken behind.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.load import Load
from support.service import wait_for
from system_fixtures import TRACKLISTS, System

from store.models import Tracklist, TracklistVersion

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _start_load(system: System) -> Load:
    paths = system.read_paths()

    def path_for(number: int) -> str:
        if number % 50 == 0:  # pick up tracklists stored since the start
            paths[:] = system.read_paths()
        return paths[number % len(paths)]

    return Load("127.0.0.1", system.up.port, path_for, connections=32).start()


def _wait_until_all_stored(system: System, timeout: float) -> None:
    wait_for(
        lambda: system.statuses() == {"done": TRACKLISTS} and system.unsent() == 0,
        timeout,
        system.up,
    )


def test_reads_under_load_while_crawling(
    system: System, report_figure: Callable[[str], None]
) -> None:
    for url in system.urls:
        system.queue.submit(url)
    load = _start_load(system)
    try:
        time.sleep(60)
    finally:
        load.stop()
    _wait_until_all_stored(system, 180)
    report_figure(f"load while crawling: {load.summary()}")
    errors = [s.status for s in load.samples if s.status == 0 or s.status >= 400]
    assert errors == []
    assert len(load.samples) > 1000


def test_faults_under_load_lose_nothing(
    system: System, report_figure: Callable[[str], None]
) -> None:
    for url in system.urls:
        system.queue.submit(url)
    load = _start_load(system)
    database_window: tuple[float, float] | None = None
    phases: dict[str, float] = {}
    try:
        wait_for(lambda: system.statuses().get("done", 0) >= 10, 60, system.up)
        # 1. The crawl worker is SIGKILLed; `up` starts a new one; leases bring its work back.
        worker = system.up.said(r"started worker \(pid (\d+)\)")
        assert worker is not None
        phases["worker killed"] = time.monotonic()
        os.kill(int(worker.group(1)), signal.SIGKILL)
        # 2. Redis restarts and comes back empty: the queue is rebuilt from the table.
        system.queue.redis.connection_pool.disconnect()
        phases["redis restart"] = time.monotonic()
        system.redis_server.restart(down_seconds=2)
        phases["redis back"] = time.monotonic()
        # 3. RabbitMQ is unreachable for 30 s: events wait in the outbox.
        phases["broker cut"] = time.monotonic()
        system.broker_proxy.cut()
        time.sleep(30)
        system.broker_proxy.restore()
        # 4. PostgreSQL goes away for 5 s mid-crawl: transactions are retried whole.
        started = time.monotonic()
        system.database_proxy.cut()
        time.sleep(5)
        system.database_proxy.restore()
        # Requests already in flight when the cut starts fail too; pools take a moment to reconnect.
        database_window = (started - 1.0, time.monotonic() + 2.0)
        _wait_until_all_stored(system, 240)
    finally:
        load.stop()
        system.database_proxy.restore()
        system.broker_proxy.restore()
    report_figure(f"load through the faults: {load.summary()}")
    assert system.count(Tracklist) == TRACKLISTS
    assert system.count(TracklistVersion) == TRACKLISTS  # each stored once, never re-versioned
    with Session(system.engine) as session:
        stored = {str(i) for i in session.scalars(select(Tracklist.id))}
    assert system.delivered() == stored  # every event delivered (at least once)
    assert database_window is not None
    unexpected = [
        s
        for s in load.samples
        if (s.status >= 500 or s.status == 0)
        and not (s.status == 503 and database_window[0] <= s.at <= database_window[1])
    ]
    errors = [line for line in system.up.lines if "Error handling request" in line]
    assert unexpected == [], (
        f"{len(unexpected)} unexpected answers, first {unexpected[:3]}; phases {phases}; "
        f"service errors: {errors[:20]}"
    )
    assert system.up.said(r"worker exited with -9; restarting")

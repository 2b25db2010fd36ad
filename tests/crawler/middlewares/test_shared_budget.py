"""Workers on one Redis share one per-host budget: two crawlers put the load of one."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from politeness_crawl import REDIS_URL, TOLERANCE, TRACKLISTS, USER_AGENT, gaps, start_crawl
from support.private_redis import PrivateRedis, redis_server_available

from crawler.localsite import LocalSite, RequestRecord
from crawler.middlewares.budget import LocalBudget, RedisBudget

pytestmark = pytest.mark.programs

PAGES = TRACKLISTS[:3]


def _two_workers(site: LocalSite, settings: dict[str, Any], barrier: Path) -> list[RequestRecord]:
    urls = [site.url(p) for p in PAGES]
    workers = [
        start_crawl(urls, {**settings, "USER_AGENT": f"{USER_AGENT} worker-{name}"}, (barrier, 2))
        for name in "ab"
    ]
    for worker in workers:
        worker.communicate(timeout=60)
        assert worker.returncode == 0
    return site.requests()


def _page_gaps(log: list[RequestRecord]) -> list[float]:
    # Before anyone has read robots.txt, only DOWNLOAD_DELAY can space the two workers'
    # first robots.txt fetches; every later gap must honour the Crawl-delay.
    return [
        gap
        for gap, (a, b) in zip(gaps(log), itertools.pairwise(log), strict=True)
        if not (a.path == b.path == "/robots.txt")
    ]


def test_two_workers_share_one_budget(
    site: LocalSite, crawl_settings: dict[str, Any], tmp_path: Path
) -> None:
    log = _two_workers(site, crawl_settings, tmp_path)
    agents = [r.user_agent for r in log]
    assert agents.count(f"{USER_AGENT} worker-a") == 1 + len(PAGES)
    assert agents.count(f"{USER_AGENT} worker-b") == 1 + len(PAGES)
    # Both workers interleave, yet the site sees one request per Crawl-delay (0.5 s).
    assert min(_page_gaps(log)) >= 0.5 - TOLERANCE, gaps(log)


def test_without_the_shared_budget_two_workers_double_the_load(
    site: LocalSite, crawl_settings: dict[str, Any], tmp_path: Path
) -> None:
    unshared = {**crawl_settings, "TRACKLIST_SHARED_BUDGET_ENABLED": False}
    log = _two_workers(site, unshared, tmp_path)
    # Each process keeps its own 0.5 s, so the site sees requests closer than that.
    assert min(_page_gaps(log)) < 0.5 - TOLERANCE, gaps(log)


def test_redis_reservations_are_atomic(redis_prefix: str) -> None:
    async def scenario() -> list[float]:
        budgets = [RedisBudget(REDIS_URL, redis_prefix, 60) for _ in range(4)]
        try:
            turns = await asyncio.gather(
                *(b.reserve("site:80", 0.25, 10.0) for b in budgets for _ in range(3))
            )
        finally:
            for budget in budgets:
                await budget.close()
        assert all(turn.booked for turn in turns)
        return sorted(turn.wait for turn in turns)

    waits = asyncio.run(scenario())
    # Twelve concurrent reservations from four clients: twelve distinct turns 0.25 s apart.
    assert [b - a for a, b in itertools.pairwise(waits)] == pytest.approx([0.25] * 11, abs=0.02)


def test_deferral_and_crawl_delay_are_shared(redis_prefix: str) -> None:
    async def scenario() -> None:
        first, second = (RedisBudget(REDIS_URL, redis_prefix, 60) for _ in range(2))
        try:
            await first.set_min_interval("site:80", 2.0)
            assert (await second.reserve("site:80", 0.1, 5.0)).wait == pytest.approx(0, abs=0.05)
            # The other worker's Crawl-delay spaces this one's next turn.
            assert (await second.reserve("site:80", 0.1, 5.0)).wait == pytest.approx(2, abs=0.1)
            assert await first.defer("site:80", 30) == pytest.approx(30, abs=0.1)
            turn = await second.reserve("site:80", 0.1, 5.0)
            assert not turn.booked
            assert turn.wait == pytest.approx(30, abs=0.1)
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_redis_down_pauses_every_host(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        budget = RedisBudget("redis://127.0.0.1:1/0", "unused:", 60)
        try:
            turn = await budget.reserve("site:80", 1.0, 5.0)
            # No turn, and the first one after the outage waits a horizon plus an interval.
            assert (turn.booked, turn.wait) == (False, pytest.approx(6.0, abs=0.05))
            again = await budget.reserve("site:80", 1.0, 5.0)
            other = await budget.reserve("other:80", 1.0, 5.0)
            assert not again.booked
            assert not other.booked
            assert budget.errors == 1  # during the pause Redis is not asked again
            assert await budget.defer("site:80", 30) == pytest.approx(30, abs=0.05)
        finally:
            await budget.close()

    asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per request
    assert "until Redis answers again" in warnings[0]


def test_the_pause_ends_when_redis_answers_and_what_it_missed_is_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis_server_available()
    server = PrivateRedis()
    server.start()

    async def scenario() -> None:
        budget = RedisBudget(server.url, "b:", 60, probe_interval=0.01)
        other = RedisBudget(server.url, "b:", 60)
        try:
            assert (await budget.reserve("site:80", 0.05, 0.1)).booked
            server.kill()
            assert not (await budget.reserve("site:80", 0.05, 0.1)).booked
            # Learnt while Redis is away: kept for it.
            assert await budget.defer("site:80", 30) == pytest.approx(30, abs=0.05)
            await budget.set_min_interval("site:80", 2.0)
            server.start()  # empty: a restarted Redis keeps nothing
            await asyncio.sleep(0.2)  # past the pause (horizon + interval = 0.15 s)
            turn = await budget.reserve("site:80", 0.05, 0.1)
            # Redis answered: the deferral went to it first, so no turn for 30 s, for anyone.
            assert (turn.booked, turn.wait) == (False, pytest.approx(30, abs=0.5))
            shared = await other.reserve("site:80", 0.05, 0.1)
            assert (shared.booked, shared.wait) == (False, pytest.approx(30, abs=0.5))
            assert float(await other._client.get("b:site:80:interval")) == 2.0
        finally:
            await budget.close()
            await other.close()

    try:
        asyncio.run(scenario())
    finally:
        server.kill()
    messages = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert len(messages) == 2, messages
    assert "unreachable" in messages[0]
    assert "reachable again" in messages[1]


def test_two_workers_keep_one_pace_while_their_redis_is_down(
    site: LocalSite, crawl_settings: dict[str, Any], tmp_path: Path
) -> None:
    redis_server_available()
    server = PrivateRedis()
    server.start()
    pages = [site.url(p) for p in TRACKLISTS * 2]
    settings = {**crawl_settings, "TRACKLIST_REDIS_URL": server.url}
    workers = [
        start_crawl(pages, {**settings, "USER_AGENT": f"{USER_AGENT} worker-{name}"}, (tmp_path, 2))
        for name in "ab"
    ]
    try:
        deadline = time.monotonic() + 60
        while len(site.requests()) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        died = time.monotonic()
        time.sleep(4)  # an outage of several Crawl-delays
        back = time.monotonic()
        server.start()
        results = [json.loads(worker.communicate(timeout=90)[0]) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
        server.kill()
    assert [worker.returncode for worker in workers] == [0, 0]
    assert [len(result["items"]) for result in results] == [len(pages), len(pages)]
    log = site.requests()
    # Never closer than one worker alone keeps (Crawl-delay 0.5 s), before, during or after.
    assert min(_page_gaps(log)) >= 0.5 - TOLERANCE, gaps(log)
    # Paused: after the turns booked before Redis died (at most a horizon, 1 s, ahead; 0.1 s
    # for a busy reactor), nothing went out until it was back; then the crawl went on to the end.
    arrivals = [r.time for r in log]
    assert not [t for t in arrivals if died + 1.1 < t < back], (died, back, arrivals)
    assert len(log) == 2 * (1 + len(pages))  # robots.txt and every page, each fetched once
    resumed = {r.user_agent for r in log if r.time > back}
    assert resumed == {f"{USER_AGENT} worker-a", f"{USER_AGENT} worker-b"}


def test_local_budget_spaces_and_defers() -> None:
    async def scenario() -> None:
        budget = LocalBudget()
        assert (await budget.reserve("h", 0.5, 2.0)).wait == 0
        assert (await budget.reserve("h", 0.5, 2.0)).wait == pytest.approx(0.5, abs=0.01)
        await budget.set_min_interval("h", 3.0)
        assert not (await budget.reserve("h", 0.5, 2.0)).booked
        assert await budget.defer("h", 10) == pytest.approx(10, abs=0.01)

    asyncio.run(scenario())

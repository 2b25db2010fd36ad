"""The pacing middleware's per-host turn: one request out at a time, spaced, never stuck."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import defaults
from crawler.middlewares.pacing import HostPacingMiddleware


def _middleware(**settings: object) -> HostPacingMiddleware:
    crawler = get_crawler(
        settings_dict={"DOWNLOAD_DELAY": 0.2, "TRACKLIST_SHARED_BUDGET_ENABLED": False, **settings}
    )
    crawler._apply_settings()
    return HostPacingMiddleware.from_crawler(crawler)


def test_one_request_per_host_at_a_time_spaced_by_the_delay() -> None:
    async def scenario() -> list[tuple[str, float]]:
        middleware = _middleware()
        events: list[tuple[str, float]] = []

        async def fetch(name: str, url: str) -> None:
            request = Request(url)
            await middleware.process_request(request)
            events.append((f"{name} out", time.monotonic()))
            await asyncio.sleep(0.3)  # the download
            events.append((f"{name} back", time.monotonic()))
            middleware.process_response(request, Response(url))

        await asyncio.gather(
            fetch("a", "http://site.test/1"),
            fetch("b", "http://site.test/2"),
            fetch("other", "http://other.test/1"),
        )
        return events

    events = asyncio.run(scenario())
    order = [name for name, _ in events]
    times = dict(events)
    # Another host is not held up; on one host, b leaves only after a is back.
    assert order.index("other out") < order.index("a back")
    assert times["b out"] >= times["a back"]
    assert times["b out"] - times["a out"] >= 0.2 + defaults.PACING_MARGIN - 0.005


def test_a_cancelled_waiter_does_not_keep_the_turn() -> None:
    async def scenario() -> None:
        middleware = _middleware(DOWNLOAD_DELAY=0.01)
        first, second, third = (Request(f"http://site.test/{n}") for n in range(3))
        await middleware.process_request(first)
        waiting = asyncio.ensure_future(middleware.process_request(second))
        queued = asyncio.ensure_future(middleware.process_request(third))
        await asyncio.sleep(0.05)
        waiting.cancel()
        middleware.process_exception(first, ConnectionError())
        await asyncio.wait_for(queued, timeout=2)

    asyncio.run(scenario())


def test_a_lost_holder_is_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(defaults, "LEASE_GRACE", 0.0)

    async def scenario() -> None:
        middleware = _middleware(DOWNLOAD_DELAY=0.01, DOWNLOAD_TIMEOUT=0.3)
        lost, after = Request("http://site.test/lost"), Request("http://site.test/after")
        await middleware.process_request(lost)  # never answered
        started = time.monotonic()
        await asyncio.wait_for(middleware.process_request(after), timeout=3)
        assert time.monotonic() - started >= 0.3
        middleware.process_response(lost, Response(lost.url))  # late: changes nothing

    asyncio.run(scenario())


def test_without_any_delay_the_domain_concurrency_applies() -> None:
    async def scenario() -> int:
        middleware = _middleware(DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS_PER_DOMAIN=3)
        requests = [Request(f"http://site.test/{n}") for n in range(4)]
        for request in requests[:3]:
            await asyncio.wait_for(middleware.process_request(request), timeout=1)
        fourth = asyncio.ensure_future(middleware.process_request(requests[3]))
        await asyncio.sleep(0.05)
        waited = not fourth.done()
        middleware.process_response(requests[0], Response(requests[0].url))
        await asyncio.wait_for(fourth, timeout=1)
        return int(waited)

    assert asyncio.run(scenario()) == 1

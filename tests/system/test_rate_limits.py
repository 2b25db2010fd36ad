"""Rate limits under load: one client over its limit is refused, the others never notice.

The service runs as in production (gunicorn, two workers sharing counters in Redis, a crawl
going on) with small limits, so windows pass within the test. Well-behaved clients stay
under their limits while one client hammers the API; that client is refused with 429,
``Retry-After`` and a problem body, and served again once it waited that long. Forged
``X-Forwarded-For`` headers buy it nothing: without trusted proxies the header is ignored,
with one trusted proxy only the hop that proxy appended counts.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session
from support.load import Load, Sample
from support.service import Up, free_port, wait_for
from system_fixtures import System

from service.accounts import create_user

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WINDOW_SECONDS = 5
ANONYMOUS_LIMIT = 20  # per client address and window
AUTHENTICATED_LIMIT = 200  # per user and window
LIMITS = {
    "TRACKLIST_API_RATE_LIMIT_ANONYMOUS": f"{ANONYMOUS_LIMIT}/{WINDOW_SECONDS} seconds",
    "TRACKLIST_API_RATE_LIMIT_AUTHENTICATED": f"{AUTHENTICATED_LIMIT}/{WINDOW_SECONDS} seconds",
    "TRACKLIST_API_RATE_LIMIT_LOGIN": "100/minute",
}
USERS = 6
USER_PAUSE = 0.05  # at most 20 requests a second each: half the user's limit
NEIGHBOUR_PAUSE = 0.5  # at most 2 a second: half the anonymous limit
PASSWORD = "well-behaved password"


def _forged(number: int) -> str:
    """A different made-up client address for every request number."""
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def _login(system: System, count: int) -> list[str]:
    """``count`` new users' access tokens, obtained through the API like any client's."""
    with Session(system.engine) as session:
        names = [f"load-{n}-{time.monotonic_ns()}" for n in range(count)]
        for name in names:
            create_user(session, name, PASSWORD)
        session.commit()
    api = f"http://127.0.0.1:{system.up.port}/api/v1"
    tokens = []
    for name in names:
        answer = requests.post(
            f"{api}/auth/token", json={"username": name, "password": PASSWORD}, timeout=30
        )
        answer.raise_for_status()
        tokens.append(answer.json()["access_token"])
    return tokens


def _refusals(load: Load) -> list[Sample]:
    return [s for s in load.samples if s.status == 429]


def _failures(load: Load) -> list[Sample]:
    """Anything a well-behaved client should never see: errors, refusals, lost connections."""
    return [s for s in load.samples if s.status == 0 or s.status >= 400]


def _assert_refusals_are_well_formed(refused: list[Sample]) -> None:
    for sample in refused:
        assert sample.retry_after is not None, sample
        assert sample.retry_after.isdigit(), sample
        assert 1 <= int(sample.retry_after) <= WINDOW_SECONDS, sample
        assert sample.content_type == "application/problem+json", sample
        problem = json.loads(sample.body)
        assert problem["type"] == "urn:tracklists:problem:rate-limited"
        assert problem["status"] == 429


def _assert_limited_as_one_client(load: Load) -> None:
    """At most one window's allowance per window the abuse spanned (windows start on demand)."""
    served = [s for s in load.samples if s.status == 200]
    span = max(s.at for s in load.samples) - min(s.at for s in load.samples)
    windows = math.ceil(span / WINDOW_SECONDS) + 1
    assert len(served) <= ANONYMOUS_LIMIT * windows, (len(served), windows)


def _abuse(
    up: Up, path_for: Callable[[int], str], headers_for: Callable[[int], dict[str, str]]
) -> Load:
    """One client, two connections, no pause: far over any limit."""
    return Load("127.0.0.1", up.port, path_for, connections=2, headers_for=headers_for).start()


def _served_again_after_waiting(up: Up, path: str, headers: dict[str, str], last: Sample) -> int:
    """Wait out ``last``'s Retry-After (from when it was answered), then ask once more."""
    assert last.retry_after is not None
    answered = last.at + last.seconds
    time.sleep(max(0.0, answered + int(last.retry_after) - time.monotonic()))
    answer = requests.get(f"http://127.0.0.1:{up.port}{path}", headers=headers, timeout=30)
    return answer.status_code


def _report(
    report: Callable[[str], None], name: str, abuser: Load, others: Load, crawled: dict[str, int]
) -> None:
    report(
        f"{name}: abuser {len(abuser.samples)} requests, {len(_refusals(abuser))} x 429, "
        f"{sum(s.status == 200 for s in abuser.samples)} served; "
        f"others {others.summary()}, {len(_refusals(others))} x 429, "
        f"{len(_failures(others))} failures; crawl requests {crawled}"
    )


@pytest.mark.parametrize("system", [LIMITS], indirect=True, ids=["small-limits"])
def test_one_client_over_its_limit_is_refused_and_others_are_not(
    system: System, tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    for url in system.urls:
        system.queue.submit(url)
    paths = system.read_paths()

    def path_for(number: int) -> str:
        return paths[number % len(paths)]

    # 1. No trusted proxy: users under their limits, and an anonymous client that sends a
    #    new forged X-Forwarded-For with every request.
    tokens = _login(system, USERS)
    users = Load(
        "127.0.0.1",
        system.up.port,
        path_for,
        connections=USERS,
        headers_for=lambda n: {"Authorization": f"Bearer {tokens[n // 1_000_000]}"},
        pause=USER_PAUSE,
    ).start()
    abuser = _abuse(system.up, path_for, lambda n: {"X-Forwarded-For": _forged(n)})
    try:
        time.sleep(12)
        abuser.stop()
        refused = _refusals(abuser)
        assert refused, "the abusing client was never refused"
        served_again = _served_again_after_waiting(
            system.up, paths[0], {"X-Forwarded-For": _forged(123_456)}, refused[-1]
        )
    finally:
        abuser.stop()
        users.stop()
    _report(report_figure, "no trusted proxy", abuser, users, system.statuses())
    _assert_refusals_are_well_formed(refused)
    _assert_limited_as_one_client(abuser)
    assert len(abuser.samples) >= 10 * ANONYMOUS_LIMIT  # far over its limit
    assert served_again == 200
    assert _failures(users) == []
    assert len(users.samples) > USERS * 100

    # 2. One trusted proxy (the test plays it): the API alone, on the same stores. Clients
    #    behind the proxy are told apart by the hop it appends; the abuser prepends forged
    #    hops of its own, which are not believed.
    env = {
        **system.up.env,
        "TRACKLIST_API_TRUSTED_PROXIES": "1",
        "TRACKLIST_API_PORT": str(free_port()),
        "TRACKLIST_DATA_DIR": str(tmp_path / "proxied"),
    }
    proxied = Up(env, int(env["TRACKLIST_API_PORT"]), command="serve")
    try:
        wait_for(proxied.health, 60, proxied)
        neighbours = Load(
            "127.0.0.1",
            proxied.port,
            path_for,
            connections=3,
            headers_for=lambda n: {"X-Forwarded-For": f"198.51.100.{10 + n // 1_000_000}"},
            pause=NEIGHBOUR_PAUSE,
        ).start()
        behind = _abuse(
            proxied, path_for, lambda n: {"X-Forwarded-For": f"{_forged(n)}, 198.51.100.66"}
        )
        try:
            time.sleep(8)
        finally:
            behind.stop()
            neighbours.stop()
    finally:
        proxied.stop()
    _report(report_figure, "one trusted proxy", behind, neighbours, system.statuses())
    _assert_refusals_are_well_formed(_refusals(behind))
    assert _refusals(behind), "forged hops before the proxy's own were believed"
    _assert_limited_as_one_client(behind)
    assert _failures(neighbours) == []
    assert len(neighbours.samples) >= 3 * 8

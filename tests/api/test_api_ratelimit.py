"""Rate limits: per IP without a token, per user with one, 429 problem+json with Retry-After."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from api_helpers import PASSWORD, bearer
from flask import Flask
from flask.testing import FlaskClient
from support.private_redis import PrivateRedis, redis_server_available

from api import create_app
from config.settings import Settings
from store import rate_counters
from store.rate_counters import retry_after_seconds

WHOAMI = "/api/v1/auth/whoami"
OPENAPI = "/api/v1/openapi.json"


def limited_app(settings: Settings, **overrides: Any) -> Flask:
    values = {
        "api_rate_limit_anonymous": "3/minute",
        "api_rate_limit_authenticated": "5/minute",
        **overrides,
    }
    return create_app(settings.model_copy(update=values))


def get(client: FlaskClient, path: str, ip: str, **headers: str) -> Any:
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": ip})


def test_anonymous_clients_are_limited_per_ip(api_settings: Settings) -> None:
    client = limited_app(api_settings).test_client()
    for _ in range(3):
        assert get(client, OPENAPI, "198.51.100.1").status_code == 200
    response = get(client, OPENAPI, "198.51.100.1")
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:tracklists:problem:rate-limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    # Another client is unaffected.
    assert get(client, OPENAPI, "198.51.100.2").status_code == 200


@pytest.mark.parametrize(
    ("window_reset", "now", "expected"),
    [
        (100.0, 100.0, 1),  # the window ends now: still say 1, never 0
        (100.4, 100.0, 1),
        (101.2, 100.0, 2),  # 1 s would be too early
        (103.0, 100.9, 3),
        (90.0, 100.0, 1),
        (160.0, 100.0, 60),  # a fresh 60 s window: never more than its length
    ],
)
def test_retry_after_rounds_up_and_is_at_least_one(
    window_reset: float, now: float, expected: int
) -> None:
    assert retry_after_seconds(window_reset, now, window_seconds=60) == expected


def test_waiting_retry_after_is_always_enough(api_settings: Settings, redis_server: Any) -> None:
    # flask-limiter's value (floored, from a TTL rounded to the second) was 0 or too short
    # in about half of such rounds; each round meets the window at a different moment.
    # Redis now answers the window's remaining milliseconds, rounded up.
    client = limited_app(api_settings, api_rate_limit_anonymous="2/second").test_client()
    for round_number in range(4):
        while (refused := get(client, OPENAPI, "198.51.100.90")).status_code != 429:
            pass
        retry_after = int(refused.headers["Retry-After"])
        assert retry_after == 1
        time.sleep(retry_after)
        assert get(client, OPENAPI, "198.51.100.90").status_code == 200, round_number
        time.sleep(0.25 * round_number)


def test_forged_forwarded_for_gains_nothing(api_settings: Settings) -> None:
    client = limited_app(api_settings).test_client()
    statuses = [
        get(client, OPENAPI, "198.51.100.7", **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_trusted_proxy_forwarded_for_is_honoured(api_settings: Settings) -> None:
    client = limited_app(api_settings, api_trusted_proxies=1).test_client()
    proxy = "10.0.0.2"
    for _ in range(3):
        assert get(client, OPENAPI, proxy, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert get(client, OPENAPI, proxy, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    # Behind the proxy, another client has its own budget.
    assert get(client, OPENAPI, proxy, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 200


def test_token_holders_are_limited_per_user_wherever_they_come_from(
    api_settings: Settings, make_user: Callable[..., str]
) -> None:
    app = limited_app(api_settings)
    client = app.test_client()
    username = make_user()
    token = client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.50"},
    ).json["access_token"]
    statuses = [
        get(client, WHOAMI, f"198.51.100.{60 + n}", **bearer(token)).status_code for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    # The user's bucket is not the anonymous one of any IP.
    assert get(client, OPENAPI, "198.51.100.60").status_code == 200


def test_an_invalid_token_counts_as_anonymous(api_settings: Settings) -> None:
    client = limited_app(api_settings).test_client()
    statuses = [
        get(client, OPENAPI, "198.51.100.9", **bearer(f"forged.{n}.token")).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_login_has_its_own_smaller_limit(api_settings: Settings) -> None:
    client = limited_app(
        api_settings, api_rate_limit_anonymous="100/minute", api_rate_limit_login="2/minute"
    ).test_client()
    body = {"username": "nobody", "password": "wrong password"}
    statuses = [
        client.post(
            "/api/v1/auth/token", json=body, environ_base={"REMOTE_ADDR": "198.51.100.20"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_health_and_metrics_are_never_limited(api_settings: Settings) -> None:
    client = limited_app(api_settings, api_rate_limit_anonymous="1/minute").test_client()
    for _ in range(5):
        assert get(client, "/health", "198.51.100.30").status_code == 200
        assert get(client, "/metrics", "198.51.100.30").status_code == 200


def test_workers_share_counters_through_redis(api_settings: Settings, redis_server: Any) -> None:
    first = limited_app(api_settings).test_client()
    second = limited_app(api_settings).test_client()
    assert get(first, OPENAPI, "198.51.100.40").status_code == 200
    assert get(second, OPENAPI, "198.51.100.40").status_code == 200
    assert get(first, OPENAPI, "198.51.100.40").status_code == 200
    assert get(second, OPENAPI, "198.51.100.40").status_code == 429
    keys = list(redis_server.scan_iter(match=f"{api_settings.cache_key_prefix}limits*"))
    assert keys


def test_without_redis_limits_fall_back_to_memory_with_a_warning(
    api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        app = limited_app(api_settings, redis_url="redis://127.0.0.1:1/0")
    assert "running as during a Redis outage" in caplog.text  # a shared database: not embedded
    client = app.test_client()
    statuses = [get(client, OPENAPI, "198.51.100.80").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_redis_failing_later_moves_counting_into_the_process_and_back(
    api_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server_available()
    monkeypatch.setattr(rate_counters, "RECOVERY_CHECK_SECONDS", 0.2)
    server = PrivateRedis()
    server.start()
    try:
        client = limited_app(api_settings, redis_url=server.url).test_client()
        assert [get(client, OPENAPI, "198.51.100.81").status_code for _ in range(2)] == [200] * 2
        server.kill()
        with caplog.at_level(logging.WARNING):
            # The request that meets the dead connection is counted in memory, not failed:
            # a fresh per-process window allows three more, then refuses.
            statuses = [get(client, OPENAPI, "198.51.100.81").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert "counting in this process" in caplog.text
        server.start()
        time.sleep(0.3)
        # Back in Redis (restarted empty): the shared count starts again, and is kept there.
        assert get(client, OPENAPI, "198.51.100.81").status_code == 200
        keys = list(redis.Redis.from_url(server.url).scan_iter(match="*limits*"))
        assert keys
    finally:
        server.kill()

"""Login throttling per account: a growing delay over every address, never a lockout; and the
429 detail says how many seconds to wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import PASSWORD
from flask.testing import FlaskClient

from api import create_app
from config.settings import Settings
from store.login_delays import delay_after

TOKEN = "/api/v1/auth/token"
OPENAPI = "/api/v1/openapi.json"


def attempt(client: FlaskClient, username: str, password: str, address: int) -> Any:
    """One login from its own address (the per-IP limit never sees the same one twice)."""
    return client.post(
        TOKEN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": f"203.0.113.{address}"},
    )


def assert_waits(response: Any, seconds: int) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:tracklists:problem:rate-limited"
    assert response.headers["Retry-After"] == str(seconds)
    unit = "second" if seconds == 1 else "seconds"
    assert response.json["detail"] == (
        f"rate limit exceeded (failed logins for this account); retry after {seconds} {unit}"
    )


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "in-process"])
def test_guesses_over_many_addresses_wait_longer_each_time_but_never_lock_out(
    api_settings: Settings, make_user: Callable[..., str], with_redis: bool
) -> None:
    overrides: dict[str, Any] = {
        "api_login_failures_before_delay": 2,
        "api_login_delay_max_seconds": 60,
    }
    if not with_redis:
        overrides["redis_url"] = "redis://127.0.0.1:1/0"  # embedded: counted in the process
    client = create_app(api_settings.model_copy(update=overrides)).test_client()
    victim, bystander = make_user(), make_user()

    assert [attempt(client, victim, "guess", n).status_code for n in (1, 2, 3)] == [401] * 3
    # Three failures in a row, two free: the next attempt waits 1 s, even the right password.
    assert_waits(attempt(client, victim, PASSWORD, 4), 1)
    assert attempt(client, bystander, PASSWORD, 5).status_code == 200  # other accounts: no wait
    time.sleep(1.05)
    assert attempt(client, victim, "guess", 6).status_code == 401
    assert_waits(attempt(client, victim, "guess", 7), 2)  # the delay grows
    time.sleep(2.05)
    # Not a lockout: after the wait, the real user's password works...
    assert attempt(client, victim, PASSWORD, 8).status_code == 200
    # ... and ends the run: the free failures are back.
    assert [attempt(client, victim, "guess", n).status_code for n in (9, 10)] == [401, 401]


def test_account_names_never_appear_in_redis_keys(
    api_settings: Settings, make_user: Callable[..., str], redis_server: Any
) -> None:
    settings = api_settings.model_copy(update={"api_login_failures_before_delay": 0})
    client = create_app(settings).test_client()
    victim = make_user()
    assert attempt(client, victim, "guess", 20).status_code == 401
    assert attempt(client, victim, "guess", 21).status_code == 429
    keys = [
        key.decode()
        for key in redis_server.scan_iter(match=f"{api_settings.cache_key_prefix}login:*")
    ]
    assert len(keys) == 2
    assert not any(victim in key for key in keys)


def test_the_ip_limit_detail_gives_the_seconds(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"api_rate_limit_anonymous": "1/minute"})
    client = create_app(settings).test_client()
    address = {"REMOTE_ADDR": "203.0.113.50"}
    assert client.get(OPENAPI, environ_base=address).status_code == 200
    refused = client.get(OPENAPI, environ_base=address)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60
    unit = "second" if seconds == 1 else "seconds"
    assert refused.json["detail"] == (
        f"rate limit exceeded (1 per 1 minute); retry after {seconds} {unit}"
    )
    assert "Retry-After seconds" not in refused.json["detail"]


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0), (5, 0), (6, 1), (7, 2), (8, 4), (13, 128), (14, 256), (15, 300), (10_000, 300)],
)
def test_the_delay_doubles_after_the_free_failures_up_to_the_maximum(
    failures: int, expected: int
) -> None:
    assert delay_after(failures, free_failures=5, max_seconds=300) == expected

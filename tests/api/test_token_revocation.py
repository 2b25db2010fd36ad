"""Revocation that holds: logout, API-key revocation, disabled users and role changes end or
change the tokens already issued, and keep doing so after Redis loses every key.

Each test runs on both backends and on a private Redis of its own, flushed between the change
and the use of the token (the machine's Redis is never flushed). Changes go through the real
command line (``tracklists keys revoke``, ``users disable``, ``users role``), which commits and
then publishes to Redis; the first use after the change shows that publication, the use after
the flush shows the database answering alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from api_helpers import JWT_SECRET, PASSWORD, bearer, decode_claims
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Engine
from support.private_redis import PrivateRedis, redis_server_available

from api import create_app
from cli.main import main
from config.settings import Settings
from service.accounts import create_api_key, create_user
from store.db import make_session_factory, session_scope

TOKEN = "/api/v1/auth/token"
WHOAMI = "/api/v1/auth/whoami"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ADMIN_ONLY = "/api/v1/admin/stats"
PREFIX = "tlrevoke:"


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    """One redis-server of this module's own: flushing it touches no other test."""
    redis_server_available()
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def flush(private_redis: PrivateRedis) -> Iterator[Callable[[], None]]:
    """Empty the private Redis (as a restart without persistence would)."""
    client = redis.Redis.from_url(private_redis.url)

    def do_flush() -> None:
        client.flushall()
        assert client.dbsize() == 0

    do_flush()
    yield do_flush
    client.close()


@pytest.fixture
def settings(
    any_database_url: str, migrated_engine: Engine, private_redis: PrivateRedis
) -> Settings:
    """The app's settings: a migrated database of each backend, the private Redis."""
    return Settings(
        environment="test",
        database_url=any_database_url,
        redis_url=private_redis.url,
        cache_key_prefix=PREFIX,
        jwt_secret=JWT_SECRET,
        api_rate_limit_anonymous="100000/minute",
        api_rate_limit_authenticated="100000/minute",
        api_rate_limit_login="100000/minute",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[FlaskClient]:
    app = create_app(settings)
    yield app.test_client()
    from api.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def cli(
    any_database_url: str,
    private_redis: PrivateRedis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., None]:
    """Run ``tracklists ARGS...`` on the test's database and Redis; it must succeed."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner(
        env={
            "TRACKLIST_DATABASE_URL": any_database_url,
            "TRACKLIST_REDIS_URL": private_redis.url,
            "TRACKLIST_CACHE_KEY_PREFIX": PREFIX,
        }
    )

    def run(*args: str) -> None:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output

    return run


@pytest.fixture
def user(migrated_engine: Engine) -> Callable[[str], str]:
    """Create a user with ``role``; returns the name."""

    def make(role: str) -> str:
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        with session_scope(make_session_factory(migrated_engine)) as session:
            create_user(session, name, PASSWORD, role)
        return name

    return make


def log_in(client: FlaskClient, **credentials: str) -> dict[str, Any]:
    response = client.post(TOKEN, json=credentials or None)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def status(client: FlaskClient, tokens: dict[str, Any]) -> tuple[int, int]:
    """(whoami with the access token, refresh with the refresh token)."""
    access = client.get(WHOAMI, headers=bearer(tokens["access_token"]))
    refresh = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    return access.status_code, refresh.status_code


def assert_revoked(client: FlaskClient, tokens: dict[str, Any], detail: str) -> None:
    for response in (
        client.get(WHOAMI, headers=bearer(tokens["access_token"])),
        client.post(REFRESH, headers=bearer(tokens["refresh_token"])),
    ):
        assert response.status_code == 401
        assert response.json["type"] == "urn:tracklists:problem:revoked-token"
        assert detail in response.json["detail"]


def test_logout_holds_after_redis_loses_its_data(
    client: FlaskClient, user: Callable[[str], str], flush: Callable[[], None]
) -> None:
    tokens = log_in(client, username=user("reader"), password=PASSWORD)
    assert status(client, tokens) == (200, 200)  # both cached as standing
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    assert_revoked(client, tokens, "revoked")
    flush()
    assert_revoked(client, tokens, "revoked")
    # Another session of the same user still stands, from the database too.
    other = log_in(client, username=user("reader"), password=PASSWORD)
    flush()
    assert status(client, other) == (200, 200)


def test_revoking_a_key_refuses_its_tokens_at_once(
    client: FlaskClient,
    user: Callable[[str], str],
    migrated_engine: Engine,
    cli: Callable[..., None],
    flush: Callable[[], None],
) -> None:
    owner = user("editor")
    with session_scope(make_session_factory(migrated_engine)) as session:
        key = create_api_key(session, owner, "one").key
        other_key = create_api_key(session, owner, "two").key
    tokens = log_in(client, api_key=key)
    prefix = key.split("_")[1]
    assert decode_claims(tokens["access_token"])["key"] == prefix
    assert decode_claims(tokens["refresh_token"])["key"] == prefix
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"])).json["access_token"]
    assert decode_claims(refreshed)["key"] == prefix  # a refresh keeps the key
    password_tokens = log_in(client, username=owner, password=PASSWORD)
    other_tokens = log_in(client, api_key=other_key)
    assert status(client, tokens) == (200, 200)

    cli("keys", "revoke", prefix)
    assert_revoked(client, tokens, "API key")
    assert client.get(WHOAMI, headers=bearer(refreshed)).status_code == 401
    flush()
    assert_revoked(client, tokens, "API key")
    assert client.get(WHOAMI, headers=bearer(refreshed)).status_code == 401
    # The owner's other key and password sessions are not the revoked key's.
    assert status(client, other_tokens) == (200, 200)
    assert status(client, password_tokens) == (200, 200)


def test_disabling_a_user_refuses_their_tokens_at_once(
    client: FlaskClient,
    user: Callable[[str], str],
    cli: Callable[..., None],
    flush: Callable[[], None],
) -> None:
    name = user("editor")
    tokens = log_in(client, username=name, password=PASSWORD)
    bystander = log_in(client, username=user("editor"), password=PASSWORD)
    assert status(client, tokens) == (200, 200)

    cli("users", "disable", name)
    assert_revoked(client, tokens, "disabled")
    flush()
    assert_revoked(client, tokens, "disabled")
    assert client.post(TOKEN, json={"username": name, "password": PASSWORD}).status_code == 401
    assert status(client, bystander) == (200, 200)

    cli("users", "enable", name)
    flush()
    assert status(client, tokens) == (200, 200)


def test_a_demotion_holds_at_once_and_a_promotion_at_the_next_refresh(
    client: FlaskClient,
    user: Callable[[str], str],
    cli: Callable[..., None],
    flush: Callable[[], None],
) -> None:
    name = user("admin")
    tokens = log_in(client, username=name, password=PASSWORD)
    assert client.get(ADMIN_ONLY, headers=bearer(tokens["access_token"])).status_code == 200

    cli("users", "role", name, "reader")
    flush()
    denied = client.get(ADMIN_ONLY, headers=bearer(tokens["access_token"]))
    assert denied.status_code == 403
    me = client.get(WHOAMI, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json["role"] == "reader"
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert refreshed.json["role"] == "reader"

    cli("users", "role", name, "admin")
    flush()
    # The old access token says reader now that its refresh said so: promotions wait for one.
    reader_access = refreshed.json["access_token"]
    assert client.get(ADMIN_ONLY, headers=bearer(reader_access)).status_code == 403
    promoted = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert promoted.json["role"] == "admin"
    admin_access = promoted.json["access_token"]
    assert client.get(ADMIN_ONLY, headers=bearer(admin_access)).status_code == 200


def test_a_change_made_behind_the_cache_holds_once_the_cache_forgets(
    client: FlaskClient,
    user: Callable[[str], str],
    migrated_engine: Engine,
    flush: Callable[[], None],
) -> None:
    # A change written to the database without telling Redis (a missed publication) is what
    # TRACKLIST_AUTH_CACHE_SECONDS bounds: once the cached answer is gone, the database rules.
    from sqlalchemy import update

    from store.models import User

    name = user("reader")
    tokens = log_in(client, username=name, password=PASSWORD)
    assert status(client, tokens) == (200, 200)
    with session_scope(make_session_factory(migrated_engine)) as session:
        session.execute(update(User).where(User.username == name).values(is_active=False))
    assert client.get(WHOAMI, headers=bearer(tokens["access_token"])).status_code == 200
    flush()
    assert_revoked(client, tokens, "disabled")


def test_a_change_redis_cannot_be_told_of_is_recorded_with_a_warning(
    client: FlaskClient,
    user: Callable[[str], str],
    any_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flush: Callable[[], None],
) -> None:
    name = user("reader")
    tokens = log_in(client, username=name, password=PASSWORD)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(
        env={
            "TRACKLIST_DATABASE_URL": any_database_url,
            "TRACKLIST_REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens
            "TRACKLIST_CACHE_KEY_PREFIX": PREFIX,
        }
    )
    result = runner.invoke(main, ["users", "disable", name])
    assert result.exit_code == 0, result.output
    assert "warning: Redis is unreachable; the API applies this within 60 s" in result.stderr
    flush()  # the cached answer's life ends
    assert_revoked(client, tokens, "disabled")

"""API fixtures: an app on a real, migrated PostgreSQL and a private Redis key namespace.

One PostgreSQL database serves the whole API test session (tests create uniquely named
users); every test gets its own Redis key prefix, deleted afterwards, so rate-limit
counters and blocklists never leak between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from api_data import Catalogue, seed_catalogue
from api_helpers import JWT_SECRET, PASSWORD, REDIS_URL
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from config.settings import Settings
from service.accounts import create_api_key, create_user
from store.db import make_engine, make_session_factory, session_scope

POSTGRES_ADMIN_URL = os.environ.get(
    "TRACKLIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def api_database_url(postgres_admin: Engine) -> Iterator[str]:
    """A PostgreSQL database migrated to head, shared by the API tests of this session."""
    from store.migrate import upgrade

    name = f"tracklists_api_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with postgres_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_server() -> redis.Redis:
    """A client on the test Redis database (skips locally, fails in CI, when it is down)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        # As tests/conftest.py's service_unavailable: skip locally, fail in CI.
        if os.environ.get("CI"):
            pytest.fail(f"required service unavailable in CI: Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {exc}")
    return client


@pytest.fixture
def redis_prefix(redis_server: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"tltest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = list(redis_server.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        redis_server.unlink(*keys)


@pytest.fixture
def api_settings(api_database_url: str, redis_prefix: str) -> Settings:
    """Settings for a test app: real services, a fixed secret, limits far away."""
    return Settings(
        environment="test",
        database_url=api_database_url,
        redis_url=REDIS_URL,
        cache_key_prefix=redis_prefix,
        worker_heartbeat_key_prefix=f"{redis_prefix}heartbeat:worker:",
        jwt_secret=JWT_SECRET,
        api_rate_limit_anonymous="100000/minute",
        api_rate_limit_authenticated="100000/minute",
        api_rate_limit_login="100000/minute",
        mq_rabbitmq_url="amqp://guest:guest@127.0.0.1:5672/",
        # Changes must show at once in tests (test_api_tracklists tests the delay itself).
        cache_stamp_seconds=0,
    )


@pytest.fixture
def app(api_settings: Settings) -> Iterator[Flask]:
    """The API app on the test services."""
    application = create_app(api_settings)
    application.config["TESTING"] = True
    yield application
    from api.extensions import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def make_user(api_database_url: str) -> Iterator[Callable[..., str]]:
    """Create a user with a unique name in the shared database; returns the name."""
    engine = make_engine(api_database_url)
    factory = make_session_factory(engine)

    def make(role: str = "reader", password: str = PASSWORD) -> str:
        username = f"{role}-{uuid.uuid4().hex[:10]}"
        with session_scope(factory) as session:
            create_user(session, username, password, role)
        return username

    yield make
    engine.dispose()


@pytest.fixture
def make_api_key(api_database_url: str) -> Iterator[Callable[[str], str]]:
    """Create an API key for an existing user; returns the full key."""
    engine = make_engine(api_database_url)
    factory = make_session_factory(engine)

    def make(username: str) -> str:
        with session_scope(factory) as session:
            return create_api_key(session, username, "tests").key

    yield make
    engine.dispose()


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., str]) -> Callable[[str], dict[str, Any]]:
    """Create a user with ``role`` and log in; returns the token response."""

    def do_login(role: str) -> dict[str, Any]:
        username = make_user(role)
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.json
        body: dict[str, Any] = response.json
        return body

    return do_login


@pytest.fixture(scope="session")
def store_sessions(api_database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the shared API database, for tests that store or inspect rows."""
    engine = make_engine(api_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def catalogue(store_sessions: sessionmaker[Session]) -> Catalogue:
    """The tracklists of api_data.seed_catalogue, stored once per session."""
    return seed_catalogue(store_sessions)

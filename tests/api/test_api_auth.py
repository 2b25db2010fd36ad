"""Tokens: password and API-key login, refresh, logout revoking both tokens, secrets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from api_helpers import JWT_SECRET, PASSWORD, bearer, decode_claims
from flask.testing import FlaskClient
from sqlalchemy import select

from api import create_app
from config.settings import ConfigError, Settings
from service.accounts import AccountError, authenticate_password, create_user, revoke_api_key
from store.auth_states import AuthStates
from store.db import make_engine, make_session_factory, session_scope
from store.models import ApiKey, RevokedToken, User

TOKEN = "/api/v1/auth/token"
WHOAMI = "/api/v1/auth/whoami"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def test_password_login_returns_a_token_pair(
    client: FlaskClient, make_user: Callable[..., str]
) -> None:
    username = make_user("editor")
    response = client.post(TOKEN, json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["role"] == "editor"
    assert body["expires_in"] == 15 * 60
    me = client.get(WHOAMI, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json["username"] == username
    assert me.json["role"] == "editor"
    assert isinstance(me.json["user_id"], str)


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "nobody-at-all", "password": PASSWORD},
        {"username": "{user}", "password": "wrong password"},
        {"api_key": "tl_000000000000_" + "A" * 43},
        {"api_key": "not-a-key"},
    ],
)
def test_wrong_credentials_answer_401_problem(
    client: FlaskClient, make_user: Callable[..., str], credentials: dict[str, str]
) -> None:
    if credentials.get("username") == "{user}":
        credentials = {**credentials, "username": make_user()}
    response = client.post(TOKEN, json=credentials)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:tracklists:problem:invalid-credentials"


def test_api_key_login_and_revocation(
    client: FlaskClient,
    make_user: Callable[..., str],
    make_api_key: Callable[[str], str],
    api_database_url: str,
) -> None:
    username = make_user("admin")
    key = make_api_key(username)
    assert key.startswith("tl_")
    response = client.post(TOKEN, json={"api_key": key})
    assert response.status_code == 200
    assert response.json["role"] == "admin"

    engine = make_engine(api_database_url)
    with session_scope(make_session_factory(engine)) as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == key.split("_")[1]))
        assert row is not None
        assert row.last_used_at is not None
        assert key not in row.key_hash  # only a hash is stored
        revoke_api_key(session, row.prefix)
    engine.dispose()
    assert client.post(TOKEN, json={"api_key": key}).status_code == 401


def test_refresh_gives_a_new_access_token_with_the_current_role(
    client: FlaskClient, login: Callable[[str], dict[str, Any]], api_database_url: str
) -> None:
    tokens = login("reader")
    # A refresh token is not an access token, and vice versa.
    assert client.get(WHOAMI, headers=bearer(tokens["refresh_token"])).status_code == 401
    assert client.post(REFRESH, headers=bearer(tokens["access_token"])).status_code == 401

    engine = make_engine(api_database_url)
    me = client.get(WHOAMI, headers=bearer(tokens["access_token"])).json
    with session_scope(make_session_factory(engine)) as session:
        user = session.get(User, int(me["user_id"]))
        assert user is not None
        user.role = "editor"
    response = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    assert response.json["role"] == "editor"
    assert "refresh_token" not in response.json

    with session_scope(make_session_factory(engine)) as session:
        user = session.get(User, int(me["user_id"]))
        assert user is not None
        user.is_active = False
    engine.dispose()
    response = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401


def test_logout_revokes_access_and_refresh_tokens(
    client: FlaskClient, login: Callable[[str], dict[str, Any]]
) -> None:
    tokens = login("reader")
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    second_access = refreshed.json["access_token"]

    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    for token in (tokens["access_token"], second_access):
        response = client.get(WHOAMI, headers=bearer(token))
        assert response.status_code == 401
        assert response.json["type"] == "urn:tracklists:problem:revoked-token"
    response = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    # Another session of the same user is unaffected.
    other = login("reader")
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 200


def test_revocations_live_in_the_database_with_the_token_lifetime(
    client: FlaskClient,
    login: Callable[[str], dict[str, Any]],
    redis_prefix: str,
    redis_server: Any,
    store_sessions: Any,
) -> None:
    tokens = login("reader")
    access = decode_claims(tokens["access_token"])
    client.post(LOGOUT, headers=bearer(tokens["access_token"]))
    with store_sessions() as session:
        rows = {
            row.jti: row.expires_at
            for row in session.scalars(
                select(RevokedToken).where(RevokedToken.jti.in_([access["jti"], access["rjti"]]))
            )
        }
    now = datetime.now(UTC)
    assert set(rows) == {access["jti"], access["rjti"]}
    assert 0 < (rows[access["jti"]] - now).total_seconds() <= 15 * 60 + 1
    assert 15 * 60 < (rows[access["rjti"]] - now).total_seconds() <= 30 * 86400 + 1
    # Redis is told at once (the fast path), as a cache entry with a short life.
    for jti in rows:
        key = f"{redis_prefix}auth:jti:{jti}"
        assert redis_server.get(key) == b"revoked"
        assert 0 < redis_server.ttl(key) <= 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "username"),
        ({"username": "x"}, "password"),
        ({"username": "x", "password": "y", "api_key": "z"}, "api_key"),
        ({"username": 5, "password": "y"}, "username"),
        ({"username": "", "password": "y"}, "username"),
    ],
)
def test_invalid_login_bodies_name_the_field(
    client: FlaskClient, body: dict[str, Any], field: str
) -> None:
    response = client.post(TOKEN, json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in {error["field"] for error in response.json["errors"]}
    assert field in response.json["detail"]


def test_production_refuses_to_start_without_a_secret(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"environment": "production", "jwt_secret": None})
    with pytest.raises(ConfigError, match="TRACKLIST_JWT_SECRET"):
        create_app(settings)


def test_development_uses_a_random_secret_with_a_warning(
    api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = api_settings.model_copy(update={"environment": "development", "jwt_secret": None})
    with caplog.at_level(logging.WARNING):
        first = create_app(settings)
        second = create_app(settings)
    assert "TRACKLIST_JWT_SECRET is not set" in caplog.text
    assert first.config["JWT_SECRET_KEY"] != second.config["JWT_SECRET_KEY"]
    assert len(first.config["JWT_SECRET_KEY"]) >= 32


def test_short_secrets_are_refused_by_the_settings() -> None:
    from config.settings import load_settings

    with pytest.raises(ConfigError, match="TRACKLIST_JWT_SECRET"):
        load_settings({"TRACKLIST_JWT_SECRET": "short"}, env_file=None)


def test_accounts_hash_passwords_and_check_input(migrated_engine: Any) -> None:
    factory = make_session_factory(migrated_engine)
    with session_scope(factory) as session:
        user = create_user(session, "dj.fan@example", "long enough", "editor")
        assert user.password_hash
        assert "long enough" not in user.password_hash
        assert authenticate_password(session, "dj.fan@example", "long enough") is user
        assert authenticate_password(session, "dj.fan@example", "wrong") is None
        for args in (
            ("dj.fan@example", "long enough", "reader"),  # taken
            ("bad name", "long enough", "reader"),
            ("ok", "short", "reader"),
            ("ok", "long enough", "root"),
        ):
            with pytest.raises(AccountError):
                create_user(session, *args)


def test_without_redis_the_database_answers_and_nothing_fails_open(
    app: Any, client: FlaskClient, login: Callable[[str], dict[str, Any]]
) -> None:
    tokens = login("reader")
    logged_out = login("reader")
    assert client.post(LOGOUT, headers=bearer(logged_out["access_token"])).status_code == 204
    # Redis goes away after start-up: the database still says which tokens stand.
    app.extensions["tracklists.auth_states"] = AuthStates(
        redis.Redis(port=1, socket_connect_timeout=0.5), "unused:", 60
    )
    assert client.get(WHOAMI, headers=bearer(tokens["access_token"])).status_code == 200
    refused = client.get(WHOAMI, headers=bearer(logged_out["access_token"]))
    assert refused.status_code == 401
    assert refused.json["type"] == "urn:tracklists:problem:revoked-token"
    # Neither Redis nor the database: nothing can say the token stands, so it is refused.
    dead = Settings(
        environment="test",
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none",
        redis_url="redis://127.0.0.1:1/0",
        jwt_secret=JWT_SECRET,
    )
    response = create_app(dead).test_client().get(WHOAMI, headers=bearer(tokens["access_token"]))
    assert response.status_code == 503
    assert response.json["type"] == "urn:tracklists:problem:service-unavailable"


def test_logouts_of_the_former_redis_blocklist_move_into_the_database(
    api_settings: Settings,
    login: Callable[[str], dict[str, Any]],
    redis_prefix: str,
    redis_server: Any,
    store_sessions: Any,
) -> None:
    tokens = login("reader")
    rjti = decode_claims(tokens["access_token"])["rjti"]
    # What a logout wrote before revocations were kept in the database.
    redis_server.set(f"{redis_prefix}jwt:revoked:{rjti}", "1", ex=3600)
    client = create_app(api_settings).test_client()  # an upgraded worker starting
    assert not redis_server.exists(f"{redis_prefix}jwt:revoked:{rjti}")
    with store_sessions() as session:
        row = session.get(RevokedToken, rjti)
        assert row is not None
        assert 3500 < (row.expires_at - datetime.now(UTC)).total_seconds() <= 3600
    # Nothing of this test's left in Redis: the database answers.
    leftovers = list(redis_server.scan_iter(match=f"{redis_prefix}*"))
    if leftovers:
        redis_server.unlink(*leftovers)
    response = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    assert response.json["type"] == "urn:tracklists:problem:revoked-token"

"""Embedded mode: SQLite and no Redis. Log in, use and revoke tokens, all in one process."""

from __future__ import annotations

from api_helpers import JWT_SECRET, PASSWORD, bearer

from api import create_app
from config.settings import Settings
from service.accounts import create_user
from store.db import make_engine, make_session_factory, session_scope
from store.migrate import upgrade


def test_embedded_mode_end_to_end(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        create_user(session, "solo", PASSWORD, "admin")
    engine.dispose()

    settings = Settings(
        environment="test",
        database_url=sqlite_url,
        redis_url="redis://127.0.0.1:1/0",  # nothing listens: embedded mode
        jwt_secret=JWT_SECRET,
    )
    client = create_app(settings).test_client()
    tokens = client.post("/api/v1/auth/token", json={"username": "solo", "password": PASSWORD})
    assert tokens.status_code == 200
    access = bearer(tokens.json["access_token"])
    stats = client.get("/api/v1/admin/stats", headers=access)
    assert stats.status_code == 200
    assert stats.json["counts"]["users"] == 1
    assert client.post("/api/v1/auth/logout", headers=access).status_code == 204
    assert client.get("/api/v1/auth/whoami", headers=access).status_code == 401
    refresh = bearer(tokens.json["refresh_token"])
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 401

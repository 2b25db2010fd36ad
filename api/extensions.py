"""The API's extensions, created once and bound to each app with ``init_app``.

- :data:`db`: the SQLAlchemy engine (one per app, so one per gunicorn worker) and a session
  per request (``db.session``), closed when the request ends;
- :data:`redis_store`: the Redis client, or ``None`` when Redis was unreachable at the start of
  an app on the embedded SQLite database (embedded mode: rate limits then live in the
  process, token checks ask the database); on a shared database the client is kept and used
  once Redis answers;
- :data:`jwt`: flask-jwt-extended (its callbacks are set up in :mod:`api.security`).

Redis keys all start with ``TRACKLIST_CACHE_KEY_PREFIX``; below it, ``cache:`` holds response
caches (what ``POST /admin/cache/clear`` deletes), ``auth:`` the cache of token standings
(:mod:`store.auth_states`), ``login:`` the per-account login delays and ``limits:`` the
rate-limit counters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from flask import Flask, current_app, g
from flask_jwt_extended import JWTManager
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from store.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)

SETTINGS_KEY = "tracklists.settings"
_DB_KEY = "tracklists.db"
_REDIS_KEY = "tracklists.redis"


def settings() -> Settings:
    """The current app's :class:`~config.settings.Settings`."""
    value: Settings = current_app.extensions[SETTINGS_KEY]
    return value


@dataclass(frozen=True)
class _DatabaseState:
    engine: Engine
    sessions: sessionmaker[Session]


class Database:
    """The store, per app: ``db.engine`` and the request-scoped ``db.session``."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine (lazily connected) and close sessions after each request."""
        config: Settings = app.extensions[SETTINGS_KEY]
        engine = make_engine(config.sqlalchemy_url, pool_size=config.database_pool_size)
        app.extensions[_DB_KEY] = _DatabaseState(engine, make_session_factory(engine))
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        state: _DatabaseState = current_app.extensions[_DB_KEY]
        return state.engine

    @property
    def session(self) -> Session:
        """This request's session (created on first use, closed at teardown; commit yourself)."""
        if "db_session" not in g:
            state: _DatabaseState = current_app.extensions[_DB_KEY]
            g.db_session = state.sessions()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close_session(_error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                session.close()
            except DBAPIError as exc:
                # The server went away mid-request: the answer (a 503) is already made, and the
                # pool discards the dead connection; a failing rollback must not turn it into 500.
                logger.warning("closing a session on a lost connection: %s", exc.orig)


class RedisStore:
    """The app's Redis client and its key namespace."""

    def init_app(self, app: Flask) -> None:
        """Connect and ping once; what a failure means depends on the deployment.

        On the embedded SQLite database (one host, ``tracklists up`` on a laptop) the app runs
        without Redis. On a shared database it keeps the client: a replica that started while
        Redis was away must not count rate limits and cache answers on its own for good, so it
        treats Redis as down for now (every use falls back as during an outage) and uses it
        as soon as it answers.
        """
        config: Settings = app.extensions[SETTINGS_KEY]
        client = redis.Redis.from_url(
            config.effective_redis_url,
            socket_connect_timeout=1,
            socket_timeout=2,
            health_check_interval=30,
        )
        app.extensions[_REDIS_KEY] = client
        try:
            client.ping()
        except redis.RedisError as exc:
            where = _safe_url(config.effective_redis_url)
            if not config.uses_embedded_database:
                logger.warning(
                    "Redis at %s is unreachable (%s): running as during a Redis outage "
                    "(rate limits in this process, tokens checked against the database) "
                    "until it answers",
                    where,
                    exc,
                )
                return
            logger.warning(
                "Redis at %s is unreachable (%s): rate limits are kept in this process only and "
                "tokens are checked against the database (embedded mode)",
                where,
                exc,
            )
            client.close()
            app.extensions[_REDIS_KEY] = None

    @property
    def client(self) -> redis.Redis | None:
        """The client, or ``None`` in embedded mode."""
        client: redis.Redis | None = current_app.extensions[_REDIS_KEY]
        return client

    @staticmethod
    def key(*parts: str) -> str:
        """A key in the service's namespace: ``key("cache", "x")`` → ``tracklist:cache:x``."""
        return settings().cache_key_prefix + ":".join(parts)


def _safe_url(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


db = Database()
redis_store = RedisStore()
jwt = JWTManager()

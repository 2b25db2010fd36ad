"""Engines and sessions for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: URL | str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """Create an engine with the settings each backend needs to be safe under concurrency.

    SQLite gets foreign keys on (off by default there), WAL so readers don't block the
    writer, and a busy timeout; its parent folder is created so a fresh checkout just works.
    PostgreSQL gets a pre-ping so a restarted server costs a reconnect, not an error.
    """
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the API serialises after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def run_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    max_wait_seconds: float = 120.0,
    integrity_retries: int = 3,
) -> T:
    """Run ``work`` in one transaction, retrying the WHOLE unit when the database drops it.

    A connection lost mid-transaction (a PostgreSQL restart, a failover) rolls everything
    back; ``pool_pre_ping`` only protects the first statement. We retry with backoff for up
    to ``max_wait_seconds``. An integrity error from a concurrent writer that inserted the
    same row first (two workers storing one page) is retried a few times: the second run
    sees the row and updates it. ``work`` must therefore be idempotent.
    """
    delay = 0.2
    deadline = time.monotonic() + max_wait_seconds
    integrity_failures = 0
    while True:
        try:
            with session_scope(factory) as session:
                return work(session)
        except IntegrityError:
            integrity_failures += 1
            if integrity_failures > integrity_retries:
                raise
            log.info("concurrent write conflict, retrying the transaction")
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database connection lost (%s); retrying in %.1fs", exc.orig, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


# SQLSTATEs of a server going away: class 08 (connection exception) and the shutdowns.
_DISCONNECT_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_transient(exc: DBAPIError) -> bool:
    """True for failures a new connection or a moment's wait may cure, not for SQL errors."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(_DISCONNECT_SQLSTATES)
    message = str(exc.orig)
    if "database is locked" in message:  # SQLite: another writer holds the file
        return True
    # psycopg connection failures carry no SQLSTATE; SQLite's SQL errors never reach here
    # with one either, so tell them apart by the driver.
    return type(exc.orig).__module__.startswith("psycopg")

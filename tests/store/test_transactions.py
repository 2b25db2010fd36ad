"""run_transaction: the whole unit is retried when PostgreSQL drops it, and only then."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from support.tcpproxy import TcpProxy

from store.db import make_engine, make_session_factory, run_transaction
from store.migrate import upgrade
from store.models import User


def test_connection_cut_mid_transaction_is_retried_whole(postgres_url: str) -> None:
    url = make_url(postgres_url)
    upgrade_engine = make_engine(url)
    upgrade(upgrade_engine)
    upgrade_engine.dispose()
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        engine = make_engine(url.set(port=proxy.port))
        factory = make_session_factory(engine)
        calls = 0

        def work(session: Session) -> int:
            nonlocal calls
            calls += 1
            session.add(User(username=f"attempt-{calls}"))
            session.flush()
            if calls == 1:  # the server vanishes half-way through the first attempt
                proxy.cut()
                threading.Timer(1.0, proxy.restore).start()
                session.execute(text("SELECT 1"))
            return calls

        started = time.monotonic()
        assert run_transaction(factory, work, max_wait_seconds=30) >= 2
        assert time.monotonic() - started < 30
        engine.dispose()
    check = make_engine(postgres_url)
    with Session(check) as session:
        names = session.scalars(select(User.username)).all()
    check.dispose()
    assert len(names) == 1  # the first attempt was rolled back, the retry committed once
    assert names[0] != "attempt-1"


def test_sql_errors_are_not_retried(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    calls = 0

    def broken(session: Session) -> None:
        nonlocal calls
        calls += 1
        session.execute(text("SELECT * FROM no_such_table"))

    started = time.monotonic()
    with pytest.raises(DBAPIError) as info:  # ProgrammingError on PostgreSQL, Operational on SQLite
        run_transaction(factory, broken)
    assert "no_such_table" in str(info.value)
    assert calls == 1
    assert time.monotonic() - started < 5


def test_integrity_errors_are_retried_a_few_times_then_raised(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    run_transaction(factory, lambda s: s.add(User(username="taken")))
    calls = 0

    def duplicate(session: Session) -> None:
        nonlocal calls
        calls += 1
        session.add(User(username="taken"))
        session.flush()

    with pytest.raises(IntegrityError):
        run_transaction(factory, duplicate, integrity_retries=2)
    assert calls == 3
    with Session(migrated_engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1

"""Shared fixtures: the real pages, and real PostgreSQL / Redis / RabbitMQ on 127.0.0.1.

Tests that need a service skip with the reason when it is unreachable on a developer's
machine, and fail loudly when ``CI`` is set: CI must never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from support.processes import become_subreaper, command_line, wait_for_own_descendants
from support.service import service_unavailable

from store.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
REAL_PAGES = ROOT.parent / "shared" / "real-pages"
# An administrative connection used only to create and drop throw-away test databases.
POSTGRES_ADMIN_URL = os.environ.get(
    "TRACKLIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# Fixtures that reach a real service: a test using none of them, starting no program (marker
# `programs`), neither e2e nor slow, is a unit test: the fast tier `pytest -m unit`.
SERVICE_FIXTURES = frozenset(
    {"postgres_admin", "postgres_url", "any_database_url", "redis_url", "redis_server"}
    | {"rabbitmq_url"}
)
# Folders whose tests start programs (the CLI, servers, CUE readers) even without a service.
PROCESS_FOLDERS = frozenset({"cli", "deploy", "e2e", "system"})


# How long processes a test started may take to end once the session is over.
LEFTOVER_GRACE = 10.0


def pytest_sessionstart(session: pytest.Session) -> None:
    """Adopt orphans: what a killed child leaves behind stays ours, for the check at the end."""
    if sys.platform.startswith("linux"):
        become_subreaper()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a test left a process behind (then end those processes)."""
    if not sys.platform.startswith("linux"):
        return
    left = wait_for_own_descendants(LEFTOVER_GRACE)
    if not left:
        return
    lines = [f"  {pid}: {command_line(pid)[:200]}" for pid in sorted(left)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"the tests left {len(left)} process(es) behind:\n" + "\n".join(lines)
    if reporter is not None:
        reporter.write_sep("=", "processes left behind", red=True, bold=True)
        reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the unit tests (see SERVICE_FIXTURES): the tier that runs in about a minute."""
    for item in items:
        folder = item.path.relative_to(ROOT / "tests").parts[0]
        if (
            folder in PROCESS_FOLDERS
            or item.get_closest_marker("slow")
            or item.get_closest_marker("programs")
            or SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        ):
            continue
        item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def real_pages() -> Path:
    """The folder of real 1001tracklists pages, read in place (never copied into the repo)."""
    if not REAL_PAGES.is_dir():
        pytest.skip(f"real pages not available: {REAL_PAGES} is absent")
    return REAL_PAGES


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server's maintenance database."""
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        service_unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} unreachable: {exc}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    name = f"tracklists_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with postgres_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file (the embedded default's backend)."""
    return f"sqlite+pysqlite:///{tmp_path / 'tracklists.db'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def any_database_url(request: pytest.FixtureRequest) -> str:
    """Each supported backend in turn: the same code and migrations must serve both."""
    fixture = "postgres_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def migrated_engine(any_database_url: str) -> Iterator[Engine]:
    """An engine on an empty database of each backend, migrated to head."""
    from store.migrate import upgrade

    engine = make_engine(any_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


RABBITMQ_URL = os.environ.get("TRACKLIST_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The real RabbitMQ on 127.0.0.1 (tests use their own uniquely named exchanges)."""
    import pika
    import pika.exceptions

    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except pika.exceptions.AMQPError as exc:
        service_unavailable(f"RabbitMQ at {RABBITMQ_URL} unreachable: {exc!r}")
    return RABBITMQ_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis on 127.0.0.1, database 15 (tests use unique key prefixes)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {REDIS_URL} unreachable: {exc!r}")
    return REDIS_URL

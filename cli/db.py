"""``tracklists db``: create and migrate the database (PostgreSQL or the embedded SQLite)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from cli.common import settings_or_exit
from store import migrate
from store.access import grant_read_only
from store.db import make_engine


def _engine() -> Engine:
    settings = settings_or_exit()
    return make_engine(settings.sqlalchemy_url)


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _unreachable(engine: Engine, exc: OperationalError) -> click.ClickException:
    first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "unknown error"
    return click.ClickException(f"cannot reach {_describe(engine)}: {first_line}")


@click.group()
def db() -> None:
    """Database schema management (Alembic migrations shipped with the service)."""


def _migrate(step: Callable[[Engine], None]) -> None:
    engine = _engine()
    try:
        step(engine)
        click.echo(f"{_describe(engine)} is at revision {migrate.current_revision(engine)}")
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    finally:
        engine.dispose()


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Apply migrations; safe to run again (a no-op when up to date)."""
    _migrate(lambda engine: migrate.upgrade(engine, revision))


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    _migrate(lambda engine: migrate.downgrade(engine, revision))


@db.command()
def current() -> None:
    """Print the database's revision and whether it is the newest."""
    engine = _engine()
    try:
        revision = migrate.current_revision(engine)
        head = migrate.head_revision(engine)
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    finally:
        engine.dispose()
    state = "up to date" if revision == head else f"behind (head is {head})"
    click.echo(f"{_describe(engine)}: {revision or 'empty (no migrations applied)'} - {state}")


@db.command("grant-readonly")
@click.argument("role")
@click.option("--password-stdin", is_flag=True, help="Read the role's password from stdin.")
def grant_readonly(role: str, password_stdin: bool) -> None:
    """Create (or update) a read-only PostgreSQL ROLE for data teams: SELECT on the data
    tables and documented views, nothing on credentials; sessions read-only by default."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    engine = _engine()
    try:
        with engine.begin() as connection:
            grant_read_only(connection, role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    finally:
        engine.dispose()
    click.echo(f"role {role} can read {_describe(engine)} (see docs/schema.md)")

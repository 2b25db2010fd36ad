"""``tracklists users`` and ``tracklists keys``: API accounts and API keys.

Passwords are read from a hidden prompt or, for scripts, from standard input
(``--password-stdin``), never from the command line where ``ps`` would show them.

Revoking a key, disabling a user or changing a role applies to the tokens already issued: the
change is committed, then published to the API's Redis (the token check's cache), so it holds
at the API's next request. When Redis cannot be reached, the command says so: the database
holds the change, and the API sees it within ``TRACKLIST_AUTH_CACHE_SECONDS``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import redis
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cli.common import settings_or_exit
from service.accounts import (
    AccountError,
    create_api_key,
    create_user,
    list_users,
    revoke_api_key,
    set_user_active,
    set_user_role,
)
from service.token_standing import key_changes, user_changes
from store.auth_states import AuthStates
from store.db import make_engine, make_session_factory, session_scope
from store.models import ROLES


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured store, with one-line errors."""
    engine = make_engine(settings_or_exit().sqlalchemy_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        first_line = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        raise click.ClickException(f"cannot use {where}: {first_line}") from None
    finally:
        engine.dispose()


def _publish(changes: dict[str, str]) -> None:
    """Tell the API's token check about committed changes (see the module docstring)."""
    settings = settings_or_exit()
    client = redis.Redis.from_url(
        settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=2
    )
    states = AuthStates(client, f"{settings.cache_key_prefix}auth:", settings.auth_cache_seconds)
    try:
        if not states.publish(changes):
            click.echo(
                "warning: Redis is unreachable; the API applies this within "
                f"{settings.auth_cache_seconds} s (TRACKLIST_AUTH_CACHE_SECONDS)",
                err=True,
            )
    finally:
        client.close()


@click.group()
def users() -> None:
    """API users (roles: reader, editor, admin)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_user(username: str, role: str, password_stdin: bool) -> None:
    """Create USERNAME with a password (prompted twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        create_user(session, username, password, role)
    click.echo(f"created user {username} ({role})")


@users.command("list")
def list_command() -> None:
    """Every user: name, role, active, number of active API keys."""
    with _session() as session:
        rows = [
            (user.username, user.role, "active" if user.is_active else "disabled", keys)
            for user, keys in list_users(session)
        ]
    if not rows:
        click.echo("no users (add one with: tracklists users add NAME --role admin)")
    for username, role, state, keys in rows:
        click.echo(f"{username}\t{role}\t{state}\t{keys} key(s)")


@users.command("disable")
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable USERNAME: no login, and every token already issued is refused."""
    with _session() as session:
        changes = user_changes(set_user_active(session, username, active=False))
    _publish(changes)
    click.echo(f"disabled user {username}")


@users.command("enable")
@click.argument("username")
def enable_user(username: str) -> None:
    """Enable USERNAME again (tokens issued before are accepted again while unexpired)."""
    with _session() as session:
        changes = user_changes(set_user_active(session, username, active=True))
    _publish(changes)
    click.echo(f"enabled user {username}")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def change_role(username: str, role: str) -> None:
    """Give USERNAME the role ROLE (a demotion holds at once, a promotion at the next refresh)."""
    with _session() as session:
        changes = user_changes(set_user_role(session, username, role))
    _publish(changes)
    click.echo(f"user {username} is now {role}")


@click.group()
def keys() -> None:
    """API keys (exchanged for tokens at POST /auth/token)."""


@keys.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the key is for, e.g. the calling service.")
def create_key(username: str, name: str) -> None:
    """Create an API key for USERNAME and print it (the only time it is shown)."""
    with _session() as session:
        new = create_api_key(session, username, name)
    click.echo(new.key)
    click.echo(
        f"key {new.prefix} for {new.username} ({new.name}); store it now, it is not kept",
        err=True,
    )


@keys.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key whose prefix (the part after ``tl_``) is PREFIX, and its tokens."""
    with _session() as session:
        revoke_api_key(session, prefix)
    _publish(key_changes([prefix]))
    click.echo(f"revoked key {prefix}")

"""API users and API keys: creation, verification, revocation (no Flask; the CLI uses it too).

Revoking a key, disabling a user or changing a role also ends or changes the tokens already
issued: after the commit, publish :mod:`service.token_standing`'s ``key_changes`` /
``user_changes`` so the token check's cache learns at once.

Passwords and API keys are stored only as werkzeug scrypt hashes. An API key reads
``tl_<prefix>_<secret>``: the prefix finds the row, the hash verifies the whole key.
Verification costs the same whether or not the user or prefix exists, so response times
do not tell which user names or key prefixes are valid.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from store.models import ROLES, ApiKey, User, utcnow

API_KEY_SCHEME = "tl"
MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,149}")
_API_KEY = re.compile(
    rf"{API_KEY_SCHEME}_(?P<prefix>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{43}})"
)


class AccountError(ValueError):
    """A user or key operation that cannot be done (bad name, unknown user, ...)."""


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``key`` is shown once and never stored."""

    key: str
    prefix: str
    username: str
    name: str


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of a password or API key."""
    return generate_password_hash(secret)


@cache
def _dummy_hash() -> str:
    # Verified against when the user or key does not exist, to keep timing uniform.
    return hash_secret(secrets.token_urlsafe(32))


def create_user(session: Session, username: str, password: str, role: str = "reader") -> User:
    """Add a user; raise :class:`AccountError` for a taken or bad name, weak password, bad role."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            "user names are 1-150 letters, digits or _ . @ - (starting alphanumeric)"
        )
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_secret(password), role=role)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[tuple[User, int]]:
    """Every user with the number of their active API keys, by name."""
    active_keys = (
        select(func.count(ApiKey.id))
        .where(ApiKey.user_id == User.id, ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(select(User, active_keys).order_by(User.username))
    return [(user, count) for user, count in rows]


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else ``None``."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else None
    valid = check_password_hash(stored or _dummy_hash(), password)
    if user is None or stored is None or not valid or not user.is_active:
        return None
    return user


def create_api_key(session: Session, username: str, name: str) -> NewApiKey:
    """Create a key for ``username``; the returned key is the only copy of its secret."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    if not name.strip() or len(name) > 150:
        raise AccountError("key names are 1-150 characters")
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(user_id=user.id, name=name.strip(), prefix=prefix, key_hash=hash_secret(key))
    )
    session.flush()
    return NewApiKey(key=key, prefix=prefix, username=username, name=name.strip())


def api_key_prefix(key: str) -> str | None:
    """The prefix of a well-formed API key (what tokens minted from it name), else ``None``."""
    match = _API_KEY.fullmatch(key)
    return match["prefix"] if match is not None else None


def authenticate_api_key(session: Session, key: str) -> User | None:
    """The active owner of this unrevoked key, else ``None``; records when it was last used."""
    match = _API_KEY.fullmatch(key)
    row = (
        session.scalar(select(ApiKey).where(ApiKey.prefix == match["prefix"]))
        if match is not None
        else None
    )
    # check_password_hash compares in constant time; the dummy keeps misses as slow as hits.
    valid = check_password_hash(row.key_hash if row is not None else _dummy_hash(), key)
    if row is None or not valid or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = utcnow()
    return user


def revoke_api_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with this prefix (idempotent); raise :class:`AccountError` if unknown."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        raise AccountError(f"no API key with prefix {prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def set_user_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable ``username``; raise :class:`AccountError` if unknown."""
    user = _user(session, username)
    user.is_active = active
    session.flush()
    return user


def set_user_role(session: Session, username: str, role: str) -> User:
    """Give ``username`` another role; raise :class:`AccountError` if unknown or bad role."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    user = _user(session, username)
    user.role = role
    session.flush()
    return user


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user

"""Does a signed, unexpired token still stand? Logouts, API keys, disabled users, roles.

A token stands while none of its ids (``jti``, and ``rjti`` for an access token: the refresh
token it came with) is revoked, the API key it was minted from (``key``, the key's prefix) is
not revoked, and its user exists and is active. The answer for each comes from the cache of
:mod:`store.auth_states` and, where the cache has none, from the database, which is the record.

The changes that end a token (logout, key revocation, disabling a user, a role change) are
written to the database by their use case; the caller commits and then publishes the new
answers with :meth:`store.auth_states.AuthStates.publish` (the ``*_changes`` functions here say
what to publish), so they apply to tokens already issued at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.auth_states import (
    ACTIVE_PREFIX,
    GONE,
    OK,
    REVOKED,
    AuthStates,
    key_entry,
    token_entry,
    user_entry,
    user_state,
)
from store.models import ApiKey, User
from store.revocations import revoke_tokens, revoked_among


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What a verified token says about itself."""

    user_id: int
    jtis: tuple[str, ...]
    key_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """``refusal`` says why the token no longer stands (``None``: it does); ``role`` is the
    user's current role when it does. ``revoked`` tells a token someone ended (logout, key,
    disabled user) from one whose user no longer exists."""

    refusal: str | None
    role: str | None = None
    revoked: bool = True


def standing(session: Callable[[], Session], states: AuthStates, token: TokenFacts) -> Standing:
    """Whether ``token`` stands: from the cache, else the database (``session()`` only then)."""
    entries = [user_entry(token.user_id), *(token_entry(jti) for jti in token.jtis)]
    if token.key_prefix is not None:
        entries.append(key_entry(token.key_prefix))
    answers = dict(zip(entries, states.lookup(entries), strict=True))
    missing = [entry for entry, value in answers.items() if value is None]
    if missing:
        fresh = _from_database(session(), token, set(missing))
        states.fill(fresh)
        answers.update(fresh)
    if any(answers[token_entry(jti)] == REVOKED for jti in token.jtis):
        return Standing("the token has been revoked")
    if token.key_prefix is not None and answers[key_entry(token.key_prefix)] != OK:
        return Standing("the API key this token was issued for has been revoked")
    state = answers[user_entry(token.user_id)] or GONE
    if state == GONE:
        return Standing("the token's user no longer exists", revoked=False)
    if not state.startswith(ACTIVE_PREFIX):
        return Standing("the user is disabled")
    return Standing(None, state.removeprefix(ACTIVE_PREFIX))


def logout(session: Session, expiries: dict[str, datetime]) -> dict[str, str]:
    """Revoke these token ids until their expiry; the cache answers to publish after commit."""
    revoke_tokens(session, expiries)
    return {token_entry(jti): REVOKED for jti in expiries}


def key_changes(prefixes: Iterable[str]) -> dict[str, str]:
    """What to publish once these API keys' revocation is committed."""
    return {key_entry(prefix): REVOKED for prefix in prefixes}


def user_changes(user: User) -> dict[str, str]:
    """What to publish once a change to ``user`` (active or not, role) is committed."""
    return {user_entry(user.id): user_state(user.is_active, user.role)}


def _from_database(session: Session, token: TokenFacts, missing: set[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    user_key = user_entry(token.user_id)
    if user_key in missing:
        row = session.execute(
            select(User.is_active, User.role).where(User.id == token.user_id)
        ).first()
        answers[user_key] = GONE if row is None else user_state(row.is_active, row.role)
    jtis = [jti for jti in token.jtis if token_entry(jti) in missing]
    revoked = revoked_among(session, jtis)
    answers.update({token_entry(jti): REVOKED if jti in revoked else OK for jti in jtis})
    if token.key_prefix is not None and key_entry(token.key_prefix) in missing:
        key = session.execute(
            select(ApiKey.revoked_at).where(ApiKey.prefix == token.key_prefix)
        ).first()
        usable = key is not None and key.revoked_at is None
        answers[key_entry(token.key_prefix)] = OK if usable else REVOKED
    return answers

"""Revoked token ids in the database, on both backends: live ones found, expired ones pruned."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from store.db import make_session_factory, session_scope
from store.models import RevokedToken, utcnow
from store.revocations import prune_expired, revoke_tokens, revoked_among


def test_revocations_are_found_until_they_expire_then_pruned(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    now = utcnow()
    with session_scope(factory) as session:
        revoke_tokens(
            session,
            {"live": now + timedelta(minutes=15), "gone": now - timedelta(seconds=1)},
        )
    with session_scope(factory) as session:
        assert revoked_among(session, ["live", "gone", "never"]) == {"live"}
        assert revoked_among(session, []) == set()
        # Revoking again keeps the first expiry and adds no row.
        revoke_tokens(session, {"live": now + timedelta(days=30)})
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(RevokedToken)) == 1
        row = session.get(RevokedToken, "live")
        assert row is not None
        assert abs((row.expires_at.replace(tzinfo=now.tzinfo) - now).total_seconds() - 900) < 5
    with session_scope(factory) as session:
        assert prune_expired(session, now + timedelta(minutes=16)) == 1
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(RevokedToken)) == 0

"""The durable record of revoked token ids (``revoked_tokens``), pruned once they expire."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import RevokedToken, utcnow


def revoke_tokens(session: Session, expiries: Mapping[str, datetime]) -> None:
    """Record each token id as revoked until its expiry; already revoked ids keep theirs.

    Expired rows are deleted on the way: the table holds live revocations only.
    """
    prune_expired(session)
    known = set(
        session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(list(expiries))))
    )
    session.add_all(
        RevokedToken(jti=jti, expires_at=expires_at)
        for jti, expires_at in expiries.items()
        if jti not in known
    )
    session.flush()


def revoked_among(session: Session, jtis: Collection[str]) -> set[str]:
    """The ids among ``jtis`` that are revoked and not yet expired."""
    if not jtis:
        return set()
    return set(
        session.scalars(
            select(RevokedToken.jti).where(
                RevokedToken.jti.in_(list(jtis)), RevokedToken.expires_at > utcnow()
            )
        )
    )


def prune_expired(session: Session, now: datetime | None = None) -> int:
    """Delete the revocations of tokens that have expired anyway; how many went."""
    result = session.execute(
        delete(RevokedToken).where(RevokedToken.expires_at <= (now or utcnow()))
    )
    return int(getattr(result, "rowcount", 0) or 0)

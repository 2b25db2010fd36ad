"""API users, their API keys (only hashes are stored) and revoked token ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, Timestamped, utcnow

ROLES = ("reader", "editor", "admin")


class User(Timestamped, Base):
    """A person or service that authenticates to the API; ``role`` is reader/editor/admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reader")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiKey(Base):
    """An API key: ``prefix`` finds the row, ``key_hash`` verifies the secret part."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(150))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_api_keys_user_id", user_id),)


class RevokedToken(Base):
    """A token id refused until ``expires_at``, when the token would have expired anyway.

    The durable record of logouts; Redis only caches it (``store.auth_states``), so a Redis
    that lost its data cannot let a logged-out token back in.
    """

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # ix_revoked_tokens_expires_at

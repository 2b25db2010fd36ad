"""A Redis cache of what the database says about tokens: revoked ids, API keys, users.

Every authenticated request asks whether its token still stands: its ids not logged out, its
API key (if it came from one) not revoked, its user active, with which role. The database
(``revoked_tokens``, ``api_keys``, ``users``) is the record; this cache answers the question
in one ``MGET`` and is never the only copy of anything, so a Redis that lost its data costs a
database query per token, never a revocation.

Two writes keep it right without locks:

- filling a miss uses ``SET NX``: it never overwrites an answer already there;
- a change (logout, key revoked, user disabled or changed) overwrites the entry with the
  committed answer, after the commit.

A request that read the database before a change and fills the cache afterwards therefore
loses to the change's write, whichever lands first. Entries live ``ttl_seconds``: the bound on
a stale answer only when the change could not reach Redis at all.

While Redis fails, reads are skipped (every answer comes from the database) and tried again
after :data:`RECOVERY_CHECK_SECONDS`; writes are always attempted.
"""

from __future__ import annotations

import logging
import time

import redis

log = logging.getLogger(__name__)

RECOVERY_CHECK_SECONDS = 5.0

# Values: a token id or key is "ok" or "revoked"; a user "active:<role>", "disabled" or "gone".
OK = "ok"
REVOKED = "revoked"
DISABLED = "disabled"
GONE = "gone"
ACTIVE_PREFIX = "active:"


def token_entry(jti: str) -> str:
    """The cache entry of a token id."""
    return f"jti:{jti}"


def key_entry(prefix: str) -> str:
    """The cache entry of an API key, by its prefix."""
    return f"key:{prefix}"


def user_entry(user_id: int) -> str:
    """The cache entry of a user's state."""
    return f"user:{user_id}"


def user_state(is_active: bool, role: str) -> str:
    """How a user's state reads in the cache."""
    return f"{ACTIVE_PREFIX}{role}" if is_active else DISABLED


class AuthStates:
    """The cache under ``key_prefix`` in ``client`` (``None``: no cache, always the database)."""

    def __init__(self, client: redis.Redis | None, key_prefix: str, ttl_seconds: int) -> None:
        self._client = client
        self._prefix = key_prefix
        self._ttl = ttl_seconds
        self._down_until = 0.0  # monotonic; reads skip Redis until then

    def lookup(self, entries: list[str]) -> list[str | None]:
        """The cached answer of each entry; ``None`` where absent or Redis is unusable."""
        if self._client is None or time.monotonic() < self._down_until:
            return [None] * len(entries)
        try:
            values = self._client.mget([self._prefix + entry for entry in entries])
        except redis.RedisError as exc:
            self._failed("read", exc)
            return [None] * len(entries)
        return [value.decode() if isinstance(value, bytes) else None for value in values]

    def fill(self, answers: dict[str, str]) -> None:
        """Cache answers read from the database, where no answer is cached yet."""
        self._write(answers, only_new=True)

    def publish(self, answers: dict[str, str]) -> bool:
        """Overwrite entries with committed changes; ``False`` when Redis could not be told."""
        return self._write(answers, only_new=False)

    def _write(self, answers: dict[str, str], *, only_new: bool) -> bool:
        if self._client is None or not answers:
            return True
        try:
            pipe = self._client.pipeline(transaction=False)
            for entry, value in answers.items():
                pipe.set(self._prefix + entry, value, ex=self._ttl, nx=only_new)
            pipe.execute()
        except redis.RedisError as exc:
            self._failed("write", exc)
            return False
        return True

    def _failed(self, what: str, exc: redis.RedisError) -> None:
        log.warning(
            "token state cache: %s failed (%s); answering from the database for %.0f s",
            what,
            exc,
            RECOVERY_CHECK_SECONDS,
        )
        self._down_until = time.monotonic() + RECOVERY_CHECK_SECONDS


def legacy_revocations(client: redis.Redis, key_prefix: str) -> dict[str, int]:
    """Logouts kept by the former Redis-only blocklist (``<prefix>jwt:revoked:<jti>``): each
    token id with the seconds its revocation has left. Raises :class:`redis.RedisError`."""
    marker = f"{key_prefix}jwt:revoked:"
    names = [
        name.decode() if isinstance(name, bytes) else str(name)
        for name in client.scan_iter(match=f"{marker}*", count=1000)
    ]
    if not names:
        return {}
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.ttl(name)
    ttls = pipe.execute()
    return {
        name.removeprefix(marker): int(ttl)
        for name, ttl in zip(names, ttls, strict=True)
        if ttl > 0
    }


def forget_legacy(client: redis.Redis, key_prefix: str, jtis: list[str]) -> None:
    """Delete former blocklist entries once the database holds them."""
    if jtis:
        client.unlink(*(f"{key_prefix}jwt:revoked:{jti}" for jti in jtis))

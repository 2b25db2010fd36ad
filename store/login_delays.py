"""Growing delays after failed logins per account, in Redis with a per-process fallback.

Flask-free: :mod:`api.ratelimit` decides when to ask. An account (the user name as submitted,
hashed: names never appear in Redis keys) gets ``free_failures`` failed logins in a row; each
further failure makes the next attempt wait 1, 2, 4, ... seconds, at most ``max_seconds``.
A success resets it. Nothing is ever locked: once the wait is over, the right password works,
whatever was tried before; and an attempt refused for waiting checks no password, so it neither
counts nor teaches anything. A run of failures is forgotten a day after the last one.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time

import redis

log = logging.getLogger(__name__)

FORGET_SECONDS = 86_400

# KEYS: failures, wait. ARGV: free failures, max seconds, forget seconds.
# Counts the failure; when past the free ones, makes the next attempt wait. Answers the wait.
_FAILED_SCRIPT = """
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local over = failures - tonumber(ARGV[1])
if over <= 0 then
    return 0
end
local wait = math.min(tonumber(ARGV[2]), 2 ^ math.min(over - 1, 30))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(wait * 1000))
return math.floor(wait)
"""


def delay_after(failures: int, free_failures: int, max_seconds: int) -> int:
    """Seconds the next attempt waits after ``failures`` failed logins in a row."""
    over = failures - free_failures
    return 0 if over <= 0 else min(max_seconds, 2 ** min(over - 1, 30))


class LoginDelays:
    """Per-account failure runs under ``key_prefix`` (``client`` ``None``: this process only)."""

    def __init__(
        self,
        client: redis.Redis | None,
        key_prefix: str,
        *,
        free_failures: int,
        max_seconds: int,
    ) -> None:
        self._client = client
        self._script = client.register_script(_FAILED_SCRIPT) if client is not None else None
        self._prefix = key_prefix
        self._free = free_failures
        self._max = max_seconds
        # The fallback while Redis fails: account -> (failures, monotonic end of the wait).
        self._local: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, account: str) -> int:
        """Whole seconds before ``account`` may try again (0: now), rounded up."""
        name = _hashed(account)
        if self._client is not None:
            try:
                left_ms = int(self._client.pttl(self._key("wait", name)))
                return math.ceil(left_ms / 1000) if left_ms > 0 else 0
            except redis.RedisError as exc:
                self._fallback(exc)
        with self._lock:
            _, until = self._local.get(name, (0, 0.0))
        return max(0, math.ceil(until - time.monotonic()))

    def failed(self, account: str) -> int:
        """Count a failed login; the seconds the next attempt will have to wait."""
        name = _hashed(account)
        if self._script is not None:
            try:
                keys = [self._key("failures", name), self._key("wait", name)]
                return int(self._script(keys=keys, args=[self._free, self._max, FORGET_SECONDS]))
            except redis.RedisError as exc:
                self._fallback(exc)
        with self._lock:
            failures = self._local.get(name, (0, 0.0))[0] + 1
            wait = delay_after(failures, self._free, self._max)
            self._local[name] = (failures, time.monotonic() + wait)
            if len(self._local) > 100_000:  # a flood of names: keep the runs still waiting
                now = time.monotonic()
                self._local = {key: run for key, run in self._local.items() if run[1] > now}
        return wait

    def succeeded(self, account: str) -> None:
        """A successful login ends the run of failures."""
        name = _hashed(account)
        with self._lock:
            self._local.pop(name, None)
        if self._client is not None:
            try:
                self._client.delete(self._key("failures", name), self._key("wait", name))
            except redis.RedisError as exc:
                self._fallback(exc)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    @staticmethod
    def _fallback(exc: redis.RedisError) -> None:
        log.warning("login delays: Redis failed (%s); counting in this process", exc)


def _hashed(account: str) -> str:
    # surrogatepass: any text a client can send has a hash (a lone surrogate too).
    return hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:32]

"""The response cache in Redis: search and tracklist responses, stored as their JSON bytes.

Keys live under ``{prefix}cache:`` (what ``POST /admin/cache/clear`` deletes) and embed a
*stamp* of the data they were computed from, so a change is never served stale and nothing
has to be deleted when it happens:

- a tracklist response's key holds the tracklist's ``version`` and ``updated_at`` (a re-crawl
  that changes the page bumps the version; any write to the row moves ``updated_at``);
- a search response's key holds the id of the newest outbox event: every tracklist the
  crawler creates or changes writes one in the same transaction (``pipelines.persist``).

Old keys simply expire (search: ``TRACKLIST_CACHE_SEARCH_TTL_HOURS``, or
``TRACKLIST_CACHE_FAILED_SEARCH_TTL_MINUTES`` for a search that found nothing; tracklists:
``TRACKLIST_CACHE_TRACKLIST_TTL_HOURS``). ``DELETE /tracklist/cache`` deletes them at once.

Reading a stamp costs a database round trip, so each process remembers stamps for
``TRACKLIST_CACHE_STAMP_SECONDS`` (default 1; 0 reads them on every request): a change is then
served at most that long after it was stored, and a hot tracklist costs the database one query
per second per worker instead of one per request.

Each process also keeps the bodies it read for that same moment (:mod:`store.near_cache`),
so a hot response costs Redis one GET per second per worker.

Every lookup counts a hit or a miss, in Redis (``{prefix}stats:cache``, for
``GET /admin/stats``, summed over all workers) and in Prometheus
(``tracklists_cache_requests_total``). Without Redis, or with ``TRACKLIST_CACHE_ENABLED=false``,
nothing is cached and nothing counted; a Redis error is a miss, never a failed request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import redis
from flask import Flask, current_app
from prometheus_client import Counter

from api.extensions import SETTINGS_KEY, redis_store, settings
from api.metrics import current_metrics
from config.settings import Settings
from store.near_cache import NearCache

logger = logging.getLogger(__name__)

KINDS = ("search", "tracklist")
_COUNTER_KEY = "tracklists.cache_counter"
_SCRIPT_KEY = "tracklists.cache_script"
_STAMPS_KEY = "tracklists.cache_stamps"
_NEAR_KEY = "tracklists.near_cache"
_SCAN_BATCH = 500
_MAX_STAMPS = 10_000
T = TypeVar("T")
# GET the entry and count the outcome, plus the hits served from the process since the last
# call (ARGV[2]), in one round trip.
_GET_AND_COUNT = """
local value = redis.call('GET', KEYS[1])
local hits = tonumber(ARGV[2])
if value then
  hits = hits + 1
else
  redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':misses', 1)
end
if hits > 0 then
  redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':hits', hits)
end
return value
"""


def init_app(app: Flask) -> None:
    """Set up the stamp memory and the Prometheus counter (when metrics are on)."""
    config: Settings = app.extensions[SETTINGS_KEY]
    app.extensions[_STAMPS_KEY] = _Stamps()
    app.extensions[_NEAR_KEY] = NearCache()
    if not config.metrics_enabled:
        return
    with app.app_context():
        registry = current_metrics().registry
    app.extensions[_COUNTER_KEY] = _Lookups(
        Counter(
            "tracklists_cache_requests",
            "Response cache lookups, by cache and result (hit or miss).",
            ("cache", "result"),
            registry=registry,
        )
    )


class _Lookups:
    """The lookups counter, each series looked up once: labels() locks and validates."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._series: dict[tuple[str, str], Counter] = {}

    def count(self, kind: str, result: str) -> None:
        series = self._series.get((kind, result))
        if series is None:
            series = self._series[kind, result] = self._counter.labels(kind, result)
        series.inc()


class _Stamps:
    """Stamps remembered by this process for a short while (thread-safe, bounded)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, seconds: float, read: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            found = self._values.get(key)
        if found is not None and found[0] > now:
            value: T = found[1]
            return value
        value = read()
        with self._lock:
            if len(self._values) >= _MAX_STAMPS:
                self._values.clear()  # simpler than LRU; it only costs re-reads
            self._values[key] = (now + seconds, value)
        return value

    def forget(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)


def stamp(name: str, read: Callable[[], T]) -> T:
    """The data stamp ``name``, from ``read()`` or remembered for a moment (see above)."""
    seconds = settings().cache_stamp_seconds
    if seconds <= 0 or _client() is None:
        return read()
    stamps: _Stamps = current_app.extensions[_STAMPS_KEY]
    return stamps.get(name, seconds, read)


def forget(*names: str) -> None:
    """Drop stamps this process remembers, after it changed their data itself.

    The process that publishes an edit then serves it at once; others within
    ``TRACKLIST_CACHE_STAMP_SECONDS``, as for a crawl.
    """
    stamps: _Stamps = current_app.extensions[_STAMPS_KEY]
    stamps.forget(*names)


def cache_key(kind: str, *parts: object) -> str:
    """The Redis key of one cached response; long or free-form parts are hashed."""
    try:
        digest = _remembered_digest(*parts)
    except TypeError:  # a part that cannot be a dict key (a list): hashed each time
        digest = _digest(*parts)
    return redis_store.key("cache", kind, digest)


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


# The same few keys come again and again (a hot tracklist, a popular search); typed, so
# that True and 1, which are equal keys, keep their distinct digests ("true" and "1").
_remembered_digest = lru_cache(maxsize=4096, typed=True)(_digest)


def _client() -> redis.Redis | None:
    return redis_store.client if settings().cache_enabled else None


def get(kind: str, key: str) -> bytes | None:
    """The cached body under ``key``, or ``None``; counts a hit or a miss."""
    client = _client()
    if client is None:
        return None
    near: NearCache = current_app.extensions[_NEAR_KEY]
    keep_for = settings().cache_stamp_seconds
    if keep_for > 0:
        body = near.get(key)
        if body is not None:
            near.count_hit(kind)
            _count(kind, "hit")
            return body
    script = current_app.extensions.get(_SCRIPT_KEY)
    if script is None:
        script = current_app.extensions[_SCRIPT_KEY] = client.register_script(_GET_AND_COUNT)
    pending = near.take_hits(kind)
    try:
        value = script(keys=[key, redis_store.key("stats", "cache")], args=[kind, pending])
    except redis.RedisError as exc:
        logger.warning("cache lookup failed (%s): answering from the store", exc)
        near.give_back_hits(kind, pending)
        value = None
    _count(kind, "hit" if value is not None else "miss")
    if not isinstance(value, bytes):
        return None
    if keep_for > 0:
        near.put(key, value, keep_for)
    return value


def put(key: str, body: bytes, ttl_seconds: float) -> None:
    """Store ``body`` for ``ttl_seconds``; a Redis error only costs the next request a miss."""
    client = _client()
    if client is None:
        return
    try:
        client.set(key, body, ex=max(1, int(ttl_seconds)))
    except redis.RedisError as exc:
        logger.warning("cache store failed: %s", exc)
        return
    keep_for = settings().cache_stamp_seconds
    if keep_for > 0:
        current_app.extensions[_NEAR_KEY].put(key, body, keep_for)


def clear(*kinds: str) -> int:
    """Delete every cached response of these kinds; returns how many were deleted."""
    client = redis_store.client
    if client is None:
        return 0
    current_app.extensions[_NEAR_KEY].clear()
    deleted = 0
    for kind in kinds:
        batch: list[bytes] = []
        for key in client.scan_iter(match=redis_store.key("cache", kind, "*"), count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                deleted += int(client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(client.unlink(*batch))
    return deleted


def stats() -> dict[str, Any] | None:
    """Hits, misses and hit rate per cache and overall, from Redis (``None`` without it).

    This process's hits served from its near cache are counted first, so they show at once.
    """
    client = redis_store.client
    if client is None:
        return None
    near: NearCache = current_app.extensions[_NEAR_KEY]
    pending = {kind: near.take_hits(kind) for kind in KINDS}
    try:
        with client.pipeline(transaction=False) as pipe:
            for kind, hits in pending.items():
                if hits:
                    pipe.hincrby(redis_store.key("stats", "cache"), f"{kind}:hits", hits)
            pipe.hgetall(redis_store.key("stats", "cache"))
            raw = pipe.execute()[-1]
    except redis.RedisError:
        for kind, hits in pending.items():
            near.give_back_hits(kind, hits)
        return None
    counts = {_text(key): int(value) for key, value in raw.items()}
    result: dict[str, Any] = {}
    total_hits = total_misses = 0
    for kind in KINDS:
        hits, misses = counts.get(f"{kind}:hits", 0), counts.get(f"{kind}:misses", 0)
        total_hits, total_misses = total_hits + hits, total_misses + misses
        result[kind] = _rates(hits, misses)
    result["overall"] = _rates(total_hits, total_misses)
    return result


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _rates(hits: int, misses: int) -> dict[str, Any]:
    lookups = hits + misses
    return {
        "hits": hits,
        "misses": misses,
        "hit_rate": round(hits / lookups, 4) if lookups else None,
    }


def _count(kind: str, result: str) -> None:
    lookups: _Lookups | None = current_app.extensions.get(_COUNTER_KEY)
    if lookups is not None:
        lookups.count(kind, result)

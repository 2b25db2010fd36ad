"""``{prefix}/admin``: store statistics, cache clearing and component health (admin role)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import redis
from sqlalchemy import func, select

from api import cache
from api.errors import ApiProblem
from api.extensions import db, redis_store
from api.openapi import Blueprint
from api.probes import probe_all
from api.security import require_role
from store.crawl_queue import DEFAULT_QUEUE_KEY
from store.models import (
    CRAWL_STATUSES,
    ApiKey,
    CrawlRequest,
    CueFile,
    Dj,
    OutboxEvent,
    Source,
    Track,
    Tracklist,
    TracklistEntry,
    User,
    utcnow,
)

bp = Blueprint("admin", __name__, description="Operations: statistics, cache, health.")

COUNTED = {
    "tracklists": Tracklist,
    "tracklist_entries": TracklistEntry,
    "tracks": Track,
    "djs": Dj,
    "sources": Source,
    "cue_files": CueFile,
    "users": User,
}
# Redis lists workers pop on-demand crawl requests from (store.crawl_queue).
CRAWL_QUEUE_KEYS = (DEFAULT_QUEUE_KEY,)


class OutboxSchema(ma.Schema):
    """Events written but not yet confirmed by the broker."""

    unsent = ma.fields.Integer(required=True)
    oldest_unsent_age_seconds = ma.fields.Float(allow_none=True)


class CacheRateSchema(ma.Schema):
    """Response cache lookups since the counters were created (all workers)."""

    hits = ma.fields.Integer(required=True)
    misses = ma.fields.Integer(required=True)
    hit_rate = ma.fields.Float(allow_none=True, required=True)


class StatsSchema(ma.Schema):
    """Counts from the store and queue depths from Redis."""

    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    active_api_keys = ma.fields.Integer(required=True)
    crawl_requests = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True
    )
    outbox = ma.fields.Nested(OutboxSchema, required=True)
    queues = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        allow_none=True,
        metadata={"description": "queue depths; null when Redis is disabled or down"},
    )
    cache = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(CacheRateSchema),
        allow_none=True,
        metadata={"description": "search, tracklist, overall; null when Redis is down"},
    )


class CacheClearedSchema(ma.Schema):
    """How many cached responses were deleted."""

    deleted = ma.fields.Integer(required=True)
    redis = ma.fields.String(required=True, metadata={"description": "up | disabled"})


class ComponentSchema(ma.Schema):
    """One component's state."""

    status = ma.fields.String(required=True, metadata={"description": "up | down | disabled"})
    latency_ms = ma.fields.Float(allow_none=True)
    error = ma.fields.String(allow_none=True)
    last_error = ma.fields.Dict(allow_none=True, metadata={"description": "{message, at}"})
    details = ma.fields.Dict(
        allow_none=True, metadata={"description": "workers: {last_heartbeat: {worker: time}}"}
    )


class AdminHealthSchema(ma.Schema):
    """Overall state (``ok`` when nothing is down) and each component."""

    status = ma.fields.String(required=True, metadata={"description": "ok | degraded"})
    components = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(ComponentSchema), required=True
    )


@bp.route("/stats", methods=["GET"])
@require_role("admin")
@bp.response(200, StatsSchema)
def stats() -> dict[str, Any]:
    """Row counts, crawl requests by state, outbox backlog, queue depths, cache hit rates."""
    session = db.session
    counts = {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in COUNTED.items()
    }
    active_keys = session.scalar(
        select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
    )
    crawl_states = dict.fromkeys(CRAWL_STATUSES, 0)
    rows = session.execute(select(CrawlRequest.status, func.count()).group_by(CrawlRequest.status))
    crawl_states.update({status: count for status, count in rows})
    unsent, oldest = session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.sent_at.is_(None))
    ).one()
    age = None
    if oldest is not None:
        # SQLite returns naive datetimes from aggregates; every stored time is UTC.
        aware = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
        age = round((utcnow() - aware).total_seconds(), 3)
    return {
        "counts": counts,
        "active_api_keys": active_keys or 0,
        "crawl_requests": crawl_states,
        "outbox": {"unsent": unsent, "oldest_unsent_age_seconds": age},
        "queues": _queue_depths(),
        "cache": cache.stats(),
    }


@bp.route("/cache/clear", methods=["POST"])
@require_role("admin")
@bp.response(200, CacheClearedSchema)
def clear_cache() -> dict[str, Any]:
    """Delete every cached response (not rate-limit counters, token checks or queues)."""
    if redis_store.client is None:
        return {"deleted": 0, "redis": "disabled"}
    try:
        deleted = cache.clear(*cache.KINDS)
    except redis.RedisError as exc:
        raise ApiProblem(503, f"Redis is unavailable ({exc})") from None
    return {"deleted": deleted, "redis": "up"}


@bp.route("/health", methods=["GET"])
@require_role("admin")
@bp.response(200, AdminHealthSchema)
def component_health() -> dict[str, Any]:
    """Database, Redis and RabbitMQ: up, down (with the error) or disabled, with latency."""
    results = probe_all()
    degraded = any(result.status == "down" for result in results.values())
    return {
        "status": "degraded" if degraded else "ok",
        "components": {name: result.as_dict() for name, result in results.items()},
    }


def _queue_depths() -> dict[str, int] | None:
    client = redis_store.client
    if client is None:
        return None
    try:
        return {key: int(client.llen(key)) for key in CRAWL_QUEUE_KEYS}
    except redis.RedisError:
        return None

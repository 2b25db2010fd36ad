"""Component checks for ``GET /admin/health``: database, Redis, RabbitMQ, crawl workers.

Each probe answers ``up``, ``down`` (with the error) or ``disabled`` and never raises, so a
broken component shows in the report instead of breaking it. The last error seen per
component is kept in the process, with its time, for operators arriving after a blip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
from sqlalchemy import text

from api.extensions import db, redis_store, settings
from store import heartbeats
from store.models import utcnow

_last_errors: dict[str, tuple[str, datetime]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ProbeResult:
    """One component's state as ``GET /admin/health`` reports it."""

    name: str
    status: str  # up | down | disabled
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape, including the last error this process saw for the component."""
        last = _last_errors.get(self.name)
        return {
            "status": self.status,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "last_error": {"message": last[0], "at": last[1].isoformat()} if last else None,
            "details": self.details,
        }


def _timed(name: str, check: Callable[[], object]) -> ProbeResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
        with _lock:
            _last_errors[name] = (message, utcnow())
        return ProbeResult(name, "down", error=message)
    return ProbeResult(name, "up", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def probe_database() -> ProbeResult:
    """``SELECT 1`` on a pooled connection."""

    def check() -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return _timed("database", check)


def probe_redis() -> ProbeResult:
    """``PING``; ``disabled`` when the app runs without Redis (embedded mode)."""
    client = redis_store.client
    if client is None:
        return ProbeResult(
            "redis", "disabled", error="unreachable at start-up; in-process fallback"
        )
    return _timed("redis", client.ping)


def probe_rabbitmq() -> ProbeResult:
    """Open and close an AMQP connection (2 s timeouts)."""

    def check() -> None:
        parameters = pika.URLParameters(settings().mq_rabbitmq_url)
        parameters.connection_attempts = 1
        parameters.socket_timeout = 2
        parameters.blocked_connection_timeout = 2
        connection = pika.BlockingConnection(parameters)
        connection.close()

    return _timed("rabbitmq", check)


def probe_workers() -> ProbeResult:
    """Crawl workers' heartbeats in Redis: ``down`` when none is alive (crawls would wait)."""
    client = redis_store.client
    if client is None:
        return ProbeResult("workers", "disabled", error="no Redis, so no crawl workers")
    alive: dict[str, float] = {}
    result = _timed(
        "workers",
        lambda: alive.update(
            heartbeats.live_workers(client, settings().worker_heartbeat_key_prefix)
        ),
    )
    if result.status != "up":
        return result
    if not alive:
        return ProbeResult("workers", "down", result.latency_ms, "no crawl worker is alive")
    last_beats = {
        worker: datetime.fromtimestamp(beat, UTC).isoformat() for worker, beat in alive.items()
    }
    return ProbeResult("workers", "up", result.latency_ms, details={"last_heartbeat": last_beats})


def probe_all() -> dict[str, ProbeResult]:
    """Every component, by name."""
    results = (probe_database(), probe_redis(), probe_rabbitmq(), probe_workers())
    return {result.name: result for result in results}

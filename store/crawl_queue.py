"""On-demand crawl requests: the table is the truth, Redis is the fast path.

A request is a ``crawl_requests`` row (queued -> running -> done | failed | blocked | held;
held: the page looked cut short and waits for an editor) and a
JSON message in a Redis list that workers pop. Popping is destructive, so a worker that is
killed loses what it held in memory, and Redis here may keep nothing across a restart. Neither
loses a request, because:

- a worker marks what it takes ``running`` with a lease (``lease_expires_at``) and renews the
  leases of everything it holds while it lives;
- :meth:`CrawlQueue.reconcile` (run by every worker now and then) puts expired leases back in
  the queue, and re-pushes ``queued`` rows that have waited too long and are no longer in Redis.

A request may therefore be crawled twice; storing is idempotent, so that is harmless.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from store.db import session_scope
from store.models import CrawlRequest, utcnow

log = logging.getLogger(__name__)

DEFAULT_QUEUE_KEY = "tracklists:crawl:requests"
FINAL_STATUSES = frozenset({"done", "failed", "blocked", "held"})


@dataclass(frozen=True, slots=True)
class CrawlJob:
    """What a worker gets from the queue."""

    correlation_id: str
    url: str
    force_refresh: bool = False

    def to_message(self) -> str:
        """The JSON kept in Redis."""
        return json.dumps(
            {
                "url": self.url,
                "correlation_id": self.correlation_id,
                "force_refresh": self.force_refresh,
            }
        )

    @classmethod
    def from_message(cls, raw: bytes | str) -> CrawlJob:
        """Parse a queue message; raises ValueError for anything malformed."""
        data = json.loads(raw)  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise ValueError("crawl message needs a url")
        correlation_id = data.get("correlation_id")
        if not isinstance(correlation_id, str):
            raise ValueError("crawl message needs a correlation_id")
        return cls(str(uuid.UUID(correlation_id)), data["url"], bool(data.get("force_refresh")))


def finish_request(
    session: Session,
    correlation_id: str | None,
    status: str,
    *,
    error: str | None = None,
    tracklist_id: uuid.UUID | None = None,
) -> None:
    """Record a request's outcome inside the caller's transaction (no-op without an id)."""
    if correlation_id is None:
        return
    if status not in FINAL_STATUSES:
        raise ValueError(f"not a final status: {status}")
    session.execute(
        update(CrawlRequest)
        .where(CrawlRequest.correlation_id == uuid.UUID(correlation_id))
        .values(
            status=status,
            error=error,
            tracklist_id=tracklist_id,
            finished_at=utcnow(),
            lease_expires_at=None,
            updated_at=utcnow(),
        )
    )


class CrawlQueue:
    """Submit, take, renew and reconcile crawl requests."""

    def __init__(
        self,
        client: redis.Redis,
        sessions: sessionmaker[Session],
        key: str = DEFAULT_QUEUE_KEY,
    ) -> None:
        self.redis = client
        self.sessions = sessions
        self.key = key

    def submit(
        self,
        url: str,
        *,
        correlation_id: str | None = None,
        force_refresh: bool = False,
        requested_by: str | None = None,
    ) -> CrawlRequest:
        """Record a request and queue it. The row is committed first: if Redis is down the
        request still exists and :meth:`reconcile` queues it later."""
        job = CrawlJob(
            str(uuid.UUID(correlation_id) if correlation_id else uuid.uuid4()), url, force_refresh
        )
        with session_scope(self.sessions) as session:
            request = CrawlRequest(
                correlation_id=uuid.UUID(job.correlation_id),
                url=url,
                force_refresh=force_refresh,
                requested_by=requested_by,
            )
            session.add(request)
        # If Redis is down, reconcile() later pushes queued rows that are missing from it.
        with contextlib.suppress(redis.RedisError):
            self.redis.lpush(self.key, job.to_message())
        # The first line of the crawl's correlation id (in the API, next to the request id).
        log.info("crawl queued: %s", url, extra={"correlation_id": job.correlation_id, "url": url})
        return request

    def depth(self) -> int:
        """How many messages wait in Redis."""
        return int(self.redis.llen(self.key))

    def take(self, count: int, worker_id: str, lease_seconds: float) -> list[CrawlJob]:
        """Pop up to ``count`` jobs and lease them to ``worker_id``.

        Jobs whose request already finished (a duplicate push) or is unknown are dropped.
        """
        # With a count, RPOP answers a list of messages (or None); redis-py types it loosely.
        raw = cast("list[bytes] | None", self.redis.rpop(self.key, count)) or []
        jobs: list[CrawlJob] = []
        for message in raw:
            try:
                jobs.append(CrawlJob.from_message(message))
            except ValueError:
                continue  # not ours or corrupt: nothing to crawl, nothing to record
        if not jobs:
            return []
        ids = [uuid.UUID(job.correlation_id) for job in jobs]
        now = utcnow()
        try:
            with session_scope(self.sessions) as session:
                leased = session.scalars(
                    update(CrawlRequest)
                    .where(CrawlRequest.correlation_id.in_(ids))
                    .where(CrawlRequest.status.in_(("queued", "running")))
                    .values(
                        status="running",
                        worker_id=worker_id,
                        lease_expires_at=now + timedelta(seconds=lease_seconds),
                        attempts=CrawlRequest.attempts + 1,
                        started_at=now,
                        updated_at=now,
                    )
                    .returning(CrawlRequest.correlation_id)
                ).all()
        except Exception:
            # No lease was written: give the messages back at the end they were taken from.
            self.redis.rpush(self.key, *[job.to_message() for job in reversed(jobs)])
            raise
        live = {str(correlation_id) for correlation_id in leased}
        return [job for job in jobs if job.correlation_id in live]

    def renew(self, worker_id: str, lease_seconds: float) -> int:
        """Extend the leases of every request ``worker_id`` holds; returns how many."""
        with session_scope(self.sessions) as session:
            result = session.execute(
                update(CrawlRequest)
                .where(CrawlRequest.worker_id == worker_id)
                .where(CrawlRequest.status == "running")
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def release(self, worker_id: str) -> int:
        """Put every request ``worker_id`` still holds back in the queue (a clean shutdown)."""
        with session_scope(self.sessions) as session:
            held = session.scalars(
                select(CrawlRequest)
                .where(CrawlRequest.worker_id == worker_id)
                .where(CrawlRequest.status == "running")
            ).all()
            for request in held:
                request.status = "queued"
                request.worker_id = None
                request.lease_expires_at = None
                request.updated_at = utcnow()
            jobs = [self._job(request) for request in held]
        for job in jobs:
            self.redis.lpush(self.key, job.to_message())
        return len(jobs)

    def reconcile(self, *, requeue_after_seconds: float, max_attempts: int) -> int:
        """Requeue what dead workers held and what Redis lost; returns how many were pushed.

        Requests that keep losing their worker fail after ``max_attempts`` instead of
        cycling forever.
        """
        now = utcnow()
        pushed: list[CrawlJob] = []
        with session_scope(self.sessions) as session:
            expired = session.scalars(
                select(CrawlRequest)
                .where(CrawlRequest.status == "running")
                .where(CrawlRequest.lease_expires_at < now)
                .with_for_update(skip_locked=True)
            ).all()
            for request in expired:
                if request.attempts >= max_attempts:
                    request.status = "failed"
                    request.error = f"worker lost it {request.attempts} times"
                    request.finished_at = now
                else:
                    request.status = "queued"
                    pushed.append(self._job(request))
                request.worker_id = None
                request.lease_expires_at = None
                request.updated_at = now
            stale = session.scalars(
                select(CrawlRequest)
                .where(CrawlRequest.status == "queued")
                .where(CrawlRequest.updated_at < now - timedelta(seconds=requeue_after_seconds))
                .with_for_update(skip_locked=True)
            ).all()
            waiting = set(self.redis.lrange(self.key, 0, -1)) if stale else set()
            for request in stale:
                job = self._job(request)
                if job.to_message().encode() not in waiting:
                    pushed.append(job)
                request.updated_at = now
        for job in pushed:
            self.redis.lpush(self.key, job.to_message())
        return len(pushed)

    @staticmethod
    def _job(request: CrawlRequest) -> CrawlJob:
        return CrawlJob(str(request.correlation_id), request.url, request.force_refresh)

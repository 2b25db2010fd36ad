"""On-demand crawl requests: the table is the truth, Redis is the fast path.

A request is a ``crawl_requests`` row (queued -> running -> done | failed | blocked | held;
held: the page looked cut short and waits for an editor) and a JSON message in a Redis list
that workers pop. Popping is destructive, so a worker that is
killed loses what it held in memory, and Redis here may keep nothing across a restart. Neither
loses a request, because:

- a worker marks what it takes ``running`` with a lease (``lease_expires_at``) and renews the
  leases of everything it holds while it lives;
- :meth:`CrawlQueue.reconcile` (run by every worker now and then) puts expired leases back in
  the queue, and re-pushes ``queued`` rows that have waited too long and are no longer in Redis.

Two more rules keep a request from being fetched twice while its worker lives:

- **One lease at a time.** :meth:`CrawlQueue.take` leases only ``queued`` rows, in the one
  UPDATE that checks it; a message for a row that is running, finished or unknown is a
  duplicate and is dropped. ``reconcile`` requeues a ``running`` row only in the UPDATE that
  finds its lease expired, so a worker that renews in time keeps what it holds.
- **One message at a time.** The row turns ``queued`` and its message appears together:
  ``release`` and ``reconcile`` push inside the transaction that requeues the rows, so nobody
  sees them queued without their message. ``reconcile``'s repair of rows "missing from Redis"
  must not mistake a message in a worker's hands (popped, lease not yet written) for a lost
  one. So a worker pops with a Lua script that, in the same step, writes a *claim* per request
  (``<key>:claim:<correlation id>``, expiring after ``claim_seconds``) and deletes it once its
  lease is committed; ``submit`` claims its request before committing the row and pushes and
  unclaims in one step. The repair is one Lua script that pushes a request only when its
  message is neither in the list nor claimed, run while the rows it repairs are locked by the
  UPDATE that picked them (``SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so no
  lease commits between its look and its push.

Why a claim in Redis and not a column: a pop is only visible in Redis; the table learns of it
when the lease is written, and that gap is exactly what the repair must see. The claim is
written by the pop itself, so there is no moment when a message is neither listed nor
claimed. A claim expires, so a worker killed between pop and lease costs a delay, not the
request. A lease slower to write than ``claim_seconds``, or Redis losing the claims with its
data, can let the repair push a second message; the one-lease rule then drops it, so the page
is still fetched once. Storing is idempotent anyway. A push that meets a claim is skipped, as
the claimant will lease the row; if the claimant instead drops its message (a duplicate found
the row still running), the row waits for the repair after ``requeue_after_seconds``: a
delay, never a loss.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import redis
from sqlalchemy import ColumnElement, Select, Text, literal, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session, sessionmaker

from store.db import session_scope
from store.models import CrawlRequest, utcnow

log = logging.getLogger(__name__)

DEFAULT_QUEUE_KEY = "tracklists:crawl:requests"
FINAL_STATUSES = frozenset({"done", "failed", "blocked", "held"})
# How long a request popped (or being submitted) is claimed: longer than writing a lease takes.
DEFAULT_CLAIM_SECONDS = 60.0


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


# Pop up to ARGV[1] messages and claim each request (ARGV[2] prefix, ARGV[3] ms, ARGV[4] the
# taker) in the same step: the repair below must never see a message neither listed nor claimed.
# Both scripts name claim keys themselves: right for one Redis (ours), not for a Redis Cluster.
_TAKE = """
local popped = redis.call('RPOP', KEYS[1], ARGV[1])
if not popped then
  return {}
end
for _, message in ipairs(popped) do
  local ok, data = pcall(cjson.decode, message)
  if ok and type(data) == 'table' and type(data['correlation_id']) == 'string' then
    local claim = ARGV[2] .. string.lower(data['correlation_id'])
    redis.call('SET', claim, ARGV[4], 'PX', ARGV[3])
  end
end
return popped
"""
# Push each (ARGV[2k], ARGV[2k+1]) = (correlation id, message) unless the message is already
# listed or the request is claimed (ARGV[1] prefix): a worker is taking it. Returns how many.
_PUSH_MISSING = """
local listed = {}
for _, message in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  listed[message] = true
end
local pushed = 0
for i = 2, #ARGV, 2 do
  local message = ARGV[i + 1]
  if not listed[message] and redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    redis.call('LPUSH', KEYS[1], message)
    listed[message] = true
    pushed = pushed + 1
  end
end
return pushed
"""


class CrawlQueue:
    """Submit, take, renew and reconcile crawl requests."""

    def __init__(
        self,
        client: redis.Redis,
        sessions: sessionmaker[Session],
        key: str = DEFAULT_QUEUE_KEY,
        *,
        claim_seconds: float = DEFAULT_CLAIM_SECONDS,
    ) -> None:
        self.redis = client
        self.sessions = sessions
        self.key = key
        self.claim_prefix = f"{key}:claim:"
        self._claim_ms = max(int(claim_seconds * 1000), 1)
        self._take_script = client.register_script(_TAKE)
        self._push_script = client.register_script(_PUSH_MISSING)

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
        claim = self.claim_prefix + job.correlation_id
        # Claimed before the row exists, so reconcile cannot push it between commit and push.
        claimed = False
        with contextlib.suppress(redis.RedisError):
            claimed = bool(self.redis.set(claim, "submit", px=self._claim_ms, nx=True))
        try:
            with session_scope(self.sessions) as session:
                request = CrawlRequest(
                    correlation_id=uuid.UUID(job.correlation_id),
                    url=url,
                    force_refresh=force_refresh,
                    requested_by=requested_by,
                )
                session.add(request)
        except BaseException:
            if claimed:
                with contextlib.suppress(redis.RedisError):
                    self.redis.delete(claim)
            raise
        # If Redis is down, reconcile() later pushes queued rows that are missing from it.
        with contextlib.suppress(redis.RedisError):
            pipe = self.redis.pipeline(transaction=True)
            pipe.lpush(self.key, job.to_message())
            if claimed:
                pipe.delete(claim)
            pipe.execute()
        # The first line of the crawl's correlation id (in the API, next to the request id).
        log.info("crawl queued: %s", url, extra={"correlation_id": job.correlation_id, "url": url})
        return request

    def depth(self) -> int:
        """How many messages wait in Redis."""
        return int(self.redis.llen(self.key))

    def take(self, count: int, worker_id: str, lease_seconds: float) -> list[CrawlJob]:
        """Pop up to ``count`` jobs and lease them to ``worker_id``.

        Only ``queued`` requests are leased: a message whose request is running (another
        worker holds it), finished or unknown is a duplicate and is dropped.
        """
        raw = cast(
            "list[bytes]",
            self._take_script(
                keys=[self.key], args=[count, self.claim_prefix, self._claim_ms, worker_id]
            ),
        )
        jobs: list[CrawlJob] = []
        for message in raw:
            try:
                jobs.append(CrawlJob.from_message(message))
            except ValueError:
                continue  # not ours or corrupt: nothing to crawl, nothing to record
        if not jobs:
            return []
        ids = [uuid.UUID(job.correlation_id) for job in jobs]
        claims = [self.claim_prefix + job.correlation_id for job in jobs]
        now = utcnow()
        try:
            with session_scope(self.sessions) as session:
                leased = session.scalars(
                    update(CrawlRequest)
                    .where(CrawlRequest.correlation_id.in_(ids))
                    .where(CrawlRequest.status == "queued")
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
            # No lease was written: give the messages back at the end they were taken from,
            # and the claims with them, in one step.
            pipe = self.redis.pipeline(transaction=True)
            pipe.rpush(self.key, *[job.to_message() for job in reversed(jobs)])
            pipe.delete(*claims)
            pipe.execute()
            raise
        # The leases are committed: the rows say who holds them, the claims have done their job.
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(*claims)
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
            held = session.execute(
                update(CrawlRequest)
                .where(CrawlRequest.worker_id == worker_id)
                .where(CrawlRequest.status == "running")
                .values(status="queued", worker_id=None, lease_expires_at=None, updated_at=utcnow())
                .returning(*_JOB_COLUMNS)
            ).all()
            jobs = [CrawlJob(str(row[0]), row[1], row[2]) for row in held]
            try:
                self._push_missing(jobs)  # before the commit: never queued without a message
            except redis.RedisError as exc:
                # Queued all the same: reconcile() pushes them once Redis answers.
                log.warning("cannot hand back %d request(s) through Redis: %s", len(jobs), exc)
        return len(jobs)

    def reconcile(self, *, requeue_after_seconds: float, max_attempts: int) -> int:
        """Requeue what dead workers held and what Redis lost; returns how many were pushed.

        Requests that keep losing their worker fail after ``max_attempts`` instead of
        cycling forever. All or nothing: if Redis cannot be reached, nothing changes.
        """
        now = utcnow()
        with session_scope(self.sessions) as session:
            # Each step is one UPDATE that re-checks its condition on the rows it changes (and
            # on SQLite takes the write lock first), never a read followed by a blind write.
            session.execute(
                update(CrawlRequest)
                .where(CrawlRequest.id.in_(_expired(now, CrawlRequest.attempts >= max_attempts)))
                .values(
                    status="failed",
                    error=literal("worker lost it ")
                    .concat(cast_(CrawlRequest.attempts, Text))
                    .concat(" times"),
                    finished_at=now,
                    worker_id=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            requeued = session.execute(
                update(CrawlRequest)
                .where(CrawlRequest.id.in_(_expired(now, CrawlRequest.attempts < max_attempts)))
                .values(status="queued", worker_id=None, lease_expires_at=None, updated_at=now)
                .returning(*_JOB_COLUMNS)
            ).all()
            stale = session.execute(
                update(CrawlRequest)
                .where(
                    CrawlRequest.id.in_(
                        select(CrawlRequest.id)
                        .where(CrawlRequest.status == "queued")
                        .where(
                            CrawlRequest.updated_at < now - timedelta(seconds=requeue_after_seconds)
                        )
                        .with_for_update(skip_locked=True)
                    )
                )
                .values(updated_at=now)
                .returning(*_JOB_COLUMNS)
            ).all()
            jobs = [CrawlJob(str(row[0]), row[1], row[2]) for row in [*requeued, *stale]]
            # Inside the transaction: these rows stay locked until their messages are pushed.
            return self._push_missing(jobs)

    def _push_missing(self, jobs: list[CrawlJob]) -> int:
        """Push the jobs whose message is neither in the list nor claimed; how many were."""
        if not jobs:
            return 0
        args: list[str] = [self.claim_prefix]
        for job in jobs:
            args += [job.correlation_id, job.to_message()]
        return int(self._push_script(keys=[self.key], args=args))


# What a job is made of, read back from an UPDATE ... RETURNING.
_JOB_COLUMNS = (CrawlRequest.correlation_id, CrawlRequest.url, CrawlRequest.force_refresh)


def _expired(now: datetime, attempts: ColumnElement[bool]) -> Select[uuid.UUID]:
    """Running requests whose lease ran out (their worker died or stopped renewing)."""
    return (
        select(CrawlRequest.id)
        .where(CrawlRequest.status == "running")
        .where(CrawlRequest.lease_expires_at < now)
        .where(attempts)
        .with_for_update(skip_locked=True)
    )

"""The crawl-request queue on real Redis and both database backends: nothing is ever lost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from store.crawl_queue import CrawlJob, CrawlQueue, finish_request
from store.db import make_session_factory, session_scope
from store.models import CrawlRequest

URL = "https://www.1001tracklists.com/tracklist/1pmwyfn1/max-styler.html"


@pytest.fixture
def queue(migrated_engine: Engine, redis_url: str) -> Iterator[CrawlQueue]:
    client = redis.Redis.from_url(redis_url)
    key = f"test:crawl:{uuid.uuid4().hex}"
    yield CrawlQueue(client, make_session_factory(migrated_engine), key)
    client.delete(key, *client.scan_iter(match=f"{key}:*"))
    client.close()


def _request(engine: Engine, correlation_id: str) -> CrawlRequest:
    with Session(engine) as session:
        return session.scalars(
            select(CrawlRequest).where(CrawlRequest.correlation_id == uuid.UUID(correlation_id))
        ).one()


def test_submit_take_finish(queue: CrawlQueue, migrated_engine: Engine) -> None:
    request = queue.submit(URL, force_refresh=True, requested_by="ana")
    correlation_id = str(request.correlation_id)
    assert queue.depth() == 1
    assert _request(migrated_engine, correlation_id).status == "queued"

    jobs = queue.take(10, "worker-a", lease_seconds=60)
    assert jobs == [CrawlJob(correlation_id, URL, force_refresh=True)]
    leased = _request(migrated_engine, correlation_id)
    assert (leased.status, leased.worker_id, leased.attempts) == ("running", "worker-a", 1)
    assert leased.lease_expires_at is not None

    with session_scope(queue.sessions) as session:
        finish_request(session, correlation_id, "done")
    done = _request(migrated_engine, correlation_id)
    assert (done.status, done.lease_expires_at) == ("done", None)
    assert done.finished_at is not None


def test_a_dead_workers_requests_are_requeued(queue: CrawlQueue, migrated_engine: Engine) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    assert len(queue.take(1, "worker-dies", lease_seconds=0.2)) == 1
    assert queue.depth() == 0  # popped: only the lease remembers it
    time.sleep(0.4)
    assert queue.reconcile(requeue_after_seconds=600, max_attempts=3) == 1
    assert _request(migrated_engine, correlation_id).status == "queued"
    jobs = queue.take(1, "worker-b", lease_seconds=60)
    assert [job.correlation_id for job in jobs] == [correlation_id]
    assert _request(migrated_engine, correlation_id).attempts == 2


def test_renewed_leases_are_left_alone(queue: CrawlQueue) -> None:
    queue.submit(URL)
    queue.take(1, "worker-alive", lease_seconds=0.3)
    assert queue.renew("worker-alive", lease_seconds=60) == 1
    time.sleep(0.4)
    assert queue.reconcile(requeue_after_seconds=600, max_attempts=3) == 0


def test_requests_lost_by_redis_are_pushed_again(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    first = str(queue.submit(URL).correlation_id)
    second = str(queue.submit(URL + "?b").correlation_id)
    queue.redis.rpop(queue.key)  # Redis restarted and kept only one message
    assert queue.reconcile(requeue_after_seconds=0, max_attempts=3) == 1
    ids = {job.correlation_id for job in queue.take(10, "w", lease_seconds=60)}
    assert ids == {first, second}


def test_submit_survives_redis_being_down(migrated_engine: Engine, redis_url: str) -> None:
    sessions = make_session_factory(migrated_engine)
    key = f"test:crawl:{uuid.uuid4().hex}"
    down = CrawlQueue(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), sessions, key
    )
    correlation_id = str(down.submit(URL).correlation_id)
    assert _request(migrated_engine, correlation_id).status == "queued"
    up = CrawlQueue(redis.Redis.from_url(redis_url), sessions, key)
    try:
        assert up.reconcile(requeue_after_seconds=0, max_attempts=3) == 1
        assert [job.correlation_id for job in up.take(5, "w", 60)] == [correlation_id]
    finally:
        up.redis.delete(key)


def test_a_request_that_keeps_losing_workers_fails(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    for _ in range(2):
        queue.take(1, "doomed", lease_seconds=0.05)
        time.sleep(0.1)
        queue.reconcile(requeue_after_seconds=600, max_attempts=2)
    failed = _request(migrated_engine, correlation_id)
    assert failed.status == "failed"
    assert "2 times" in (failed.error or "")
    assert queue.depth() == 0


def test_duplicates_of_finished_requests_and_junk_are_dropped(queue: CrawlQueue) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    with session_scope(queue.sessions) as session:
        finish_request(session, correlation_id, "done")
    queue.redis.lpush(queue.key, "not json", '{"url": 5}')
    assert queue.take(10, "w", lease_seconds=60) == []
    assert queue.depth() == 0


@pytest.mark.parametrize(
    "message",
    [
        '{"url": "https://x/"}',
        '{"url": "https://x/", "correlation_id": null}',
        '{"url": "https://x/", "correlation_id": 5}',
        '{"url": "https://x/", "correlation_id": "not-a-uuid"}',
        b"\xff\xfe",
        "[]",
    ],
)
def test_malformed_messages_are_value_errors(message: str | bytes) -> None:
    with pytest.raises(ValueError):  # what take() skips; a KeyError would escape it
        CrawlJob.from_message(message)


def test_a_malformed_message_does_not_lose_the_good_ones_beside_it(queue: CrawlQueue) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    queue.redis.lpush(queue.key, '{"url": "https://x/"}')  # no correlation id
    taken = queue.take(10, "w", lease_seconds=60)
    assert [job.correlation_id for job in taken] == [correlation_id]


def test_finish_requires_a_final_status(queue: CrawlQueue) -> None:
    with session_scope(queue.sessions) as session, pytest.raises(ValueError, match="final"):
        finish_request(session, str(uuid.uuid4()), "running")


def test_release_hands_back_unfinished_requests(queue: CrawlQueue, migrated_engine: Engine) -> None:
    kept = str(queue.submit(URL).correlation_id)
    done = str(queue.submit(URL + "?done").correlation_id)
    queue.take(2, "stopping", lease_seconds=60)
    with session_scope(queue.sessions) as session:
        finish_request(session, done, "done")
    assert queue.release("stopping") == 1
    assert _request(migrated_engine, kept).status == "queued"
    assert [job.correlation_id for job in queue.take(5, "next", 60)] == [kept]


def test_take_gives_messages_back_when_the_database_is_down(redis_url: str) -> None:
    from sqlalchemy.exc import OperationalError

    from store.db import make_engine

    client = redis.Redis.from_url(redis_url)
    key = f"test:crawl:{uuid.uuid4().hex}"
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    queue = CrawlQueue(client, make_session_factory(unreachable), key)
    messages = [CrawlJob(str(uuid.uuid4()), f"{URL}?{n}").to_message() for n in range(3)]
    client.lpush(key, *messages)
    try:
        with pytest.raises(OperationalError):
            queue.take(2, "w", lease_seconds=60)
        assert [m.decode() for m in client.lrange(key, 0, -1)] == list(reversed(messages))
        assert list(client.scan_iter(match=queue.claim_prefix + "*")) == []  # claims given back
    finally:
        client.delete(key)
        unreachable.dispose()


# --- races between workers, forced deterministically ---------------------------------------
# Each test below runs another worker's call at one exact point inside a queue method, through
# a SQLAlchemy session event on that worker's own session factory: "after_begin" fires after
# take() popped its messages and before its lease UPDATE runs; "after_commit" right after a
# method committed its rows and before it returns.


class Killed(BaseException):
    """A worker dying on the spot (SIGKILL): no ``except Exception`` gets to clean up."""


def _worker(queue: CrawlQueue, engine: Engine, **options: float) -> CrawlQueue:
    """Another worker on the same Redis list and database, with a session factory of its own."""
    return CrawlQueue(queue.redis, make_session_factory(engine), queue.key, **options)


def _run_at(worker: CrawlQueue, moment: str, action: Callable[[], object]) -> list[object]:
    """Run ``action`` once, when a session of ``worker`` reaches ``moment``; its result lands
    in the returned list."""
    results: list[object] = []
    event.listen(worker.sessions, moment, lambda *_: results.append(action()), once=True)
    return results


def _held(engine: Engine) -> dict[str, tuple[str, str | None, int]]:
    """correlation id -> (status, worker, attempts) of every request."""
    with Session(engine) as session:
        return {
            str(r.correlation_id): (r.status, r.worker_id, r.attempts)
            for r in session.scalars(select(CrawlRequest))
        }


def test_a_reconcile_between_pop_and_lease_pushes_no_duplicate(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    ids = [str(queue.submit(f"{URL}?{n}").correlation_id) for n in range(4)]
    taker = _worker(queue, migrated_engine)
    # Worker B starts (and reconciles) while worker A holds two popped, not yet leased requests.
    pushed = _run_at(
        taker, "after_begin", lambda: queue.reconcile(requeue_after_seconds=0, max_attempts=3)
    )
    taken = [job.correlation_id for job in taker.take(2, "worker-a", lease_seconds=60)]
    assert pushed == [0]
    waiting = queue.redis.lrange(queue.key, 0, -1)
    assert len(waiting) == len(set(waiting)) == 2  # the two A did not take, once each
    rest = [job.correlation_id for job in queue.take(10, "worker-b", lease_seconds=60)]
    assert sorted(taken + rest) == sorted(ids)
    assert _held(migrated_engine) == {
        **{cid: ("running", "worker-a", 1) for cid in taken},
        **{cid: ("running", "worker-b", 1) for cid in rest},
    }
    assert queue.depth() == 0


def test_a_running_request_is_not_leased_again_when_redis_forgets_a_take(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    taker = _worker(queue, migrated_engine)

    def redis_loses_its_data_and_b_reconciles() -> int:
        queue.redis.delete(taker.claim_prefix + correlation_id)
        return queue.reconcile(requeue_after_seconds=0, max_attempts=3)

    pushed = _run_at(taker, "after_begin", redis_loses_its_data_and_b_reconciles)
    assert [job.correlation_id for job in taker.take(1, "worker-a", 60)] == [correlation_id]
    assert pushed == [1]  # the claim gone with Redis's data, the repair pushed it again...
    assert queue.take(1, "worker-b", lease_seconds=60) == []  # ...and B drops that duplicate
    assert _held(migrated_engine) == {correlation_id: ("running", "worker-a", 1)}
    assert queue.depth() == 0


def test_a_reconcile_between_submit_and_its_push_pushes_no_duplicate(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    submitter = _worker(queue, migrated_engine)
    pushed = _run_at(
        submitter, "after_commit", lambda: queue.reconcile(requeue_after_seconds=0, max_attempts=3)
    )
    correlation_id = str(submitter.submit(URL).correlation_id)
    assert pushed == [0]
    assert queue.depth() == 1
    assert [job.correlation_id for job in queue.take(5, "w", 60)] == [correlation_id]
    assert list(queue.redis.scan_iter(match=queue.claim_prefix + "*")) == []


def test_a_reconcile_during_a_release_pushes_no_duplicate(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    releaser = _worker(queue, migrated_engine)
    releaser.take(1, "stopping", lease_seconds=60)
    pushed = _run_at(
        releaser, "after_commit", lambda: queue.reconcile(requeue_after_seconds=0, max_attempts=3)
    )
    assert releaser.release("stopping") == 1
    assert pushed == [0]
    assert queue.depth() == 1
    assert [job.correlation_id for job in queue.take(5, "next", 60)] == [correlation_id]


def test_two_reconciles_requeue_a_dead_workers_request_once(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    queue.take(1, "worker-dies", lease_seconds=0.05)
    time.sleep(0.1)
    first = _worker(queue, migrated_engine)
    pushed = _run_at(
        first, "after_commit", lambda: queue.reconcile(requeue_after_seconds=0, max_attempts=3)
    )
    assert first.reconcile(requeue_after_seconds=0, max_attempts=3) == 1
    assert pushed == [0]
    assert queue.depth() == 1
    assert [job.correlation_id for job in queue.take(5, "w", 60)] == [correlation_id]


def test_a_worker_killed_between_pop_and_lease_loses_nothing(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    doomed = _worker(queue, migrated_engine, claim_seconds=0.2)

    def killed() -> None:
        raise Killed

    _run_at(doomed, "after_begin", killed)
    with pytest.raises(Killed):
        doomed.take(1, "worker-dies", lease_seconds=60)
    assert queue.depth() == 0
    # Its claim still stands: the popped request may yet be leased, so it is not pushed...
    assert queue.reconcile(requeue_after_seconds=0, max_attempts=3) == 0
    time.sleep(0.3)
    # ...until the claim lapses: then the repair pushes it and another worker takes it.
    assert queue.reconcile(requeue_after_seconds=0, max_attempts=3) == 1
    assert [job.correlation_id for job in queue.take(5, "w", 60)] == [correlation_id]
    assert _held(migrated_engine) == {correlation_id: ("running", "w", 1)}


def test_reconcile_without_redis_changes_nothing(
    queue: CrawlQueue, migrated_engine: Engine
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    queue.take(1, "worker-dies", lease_seconds=0.05)
    time.sleep(0.1)
    down = CrawlQueue(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5),
        queue.sessions,
        queue.key,
    )
    with pytest.raises(redis.ConnectionError):
        down.reconcile(requeue_after_seconds=0, max_attempts=3)
    # Not requeued without its message: the expired lease is still there for the next round.
    assert _held(migrated_engine) == {correlation_id: ("running", "worker-dies", 1)}
    assert queue.reconcile(requeue_after_seconds=0, max_attempts=3) == 1


def test_release_without_redis_leaves_the_requests_to_reconcile(
    queue: CrawlQueue, migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    correlation_id = str(queue.submit(URL).correlation_id)
    queue.take(1, "stopping", lease_seconds=60)
    down = CrawlQueue(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5),
        queue.sessions,
        queue.key,
    )
    assert down.release("stopping") == 1
    assert "cannot hand back 1 request(s)" in caplog.text
    assert _held(migrated_engine) == {correlation_id: ("queued", None, 1)}
    assert queue.reconcile(requeue_after_seconds=0, max_attempts=3) == 1
    assert [job.correlation_id for job in queue.take(5, "w", 60)] == [correlation_id]


def test_a_failed_submit_gives_its_claim_back(queue: CrawlQueue) -> None:
    from sqlalchemy.exc import IntegrityError

    correlation_id = str(queue.submit(URL).correlation_id)
    with pytest.raises(IntegrityError):
        queue.submit(URL, correlation_id=correlation_id)
    assert list(queue.redis.scan_iter(match=queue.claim_prefix + "*")) == []
    assert queue.depth() == 1

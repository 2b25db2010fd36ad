"""/metrics reports the service's state: outbox backlog, crawl requests, queue depth, pool,
Redis evictions."""

from __future__ import annotations

import re
import uuid

import redis
from flask.testing import FlaskClient
from sqlalchemy import delete
from support.private_redis import PrivateRedis, redis_server_available

from api import create_app
from config.settings import Settings
from store.crawl_queue import DEFAULT_QUEUE_KEY
from store.db import make_engine, make_session_factory, session_scope
from store.models import CrawlRequest, OutboxEvent


def _gauges(client: FlaskClient) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        match.group(1): float(match.group(2))
        for match in re.finditer(
            r"^(tracklists_(?:outbox|crawl|db)[^ ]*) ([0-9.e+-]+)$", text, re.M
        )
    }


def test_state_gauges_follow_the_store(
    client: FlaskClient, api_database_url: str, redis_server: redis.Redis
) -> None:
    before = _gauges(client)
    engine = make_engine(api_database_url)
    factory = make_session_factory(engine)
    ids = [uuid.uuid4() for _ in range(2)]
    marker = f"metrics-test-{uuid.uuid4()}"
    try:
        with session_scope(factory) as session:
            session.add_all(
                CrawlRequest(correlation_id=i, url=f"https://x/{i}", status="blocked") for i in ids
            )
            session.add(
                OutboxEvent(event_type="t", routing_key="t", payload={}, correlation_id=marker)
            )
        redis_server.rpush(DEFAULT_QUEUE_KEY, marker)
        after = _gauges(client)
    finally:
        redis_server.lrem(DEFAULT_QUEUE_KEY, 0, marker)
        with session_scope(factory) as session:
            session.execute(delete(CrawlRequest).where(CrawlRequest.correlation_id.in_(ids)))
            session.execute(delete(OutboxEvent).where(OutboxEvent.correlation_id == marker))
        engine.dispose()
    blocked = 'tracklists_crawl_requests{status="blocked"}'
    assert after[blocked] - before[blocked] == 2
    assert after["tracklists_outbox_unsent"] - before["tracklists_outbox_unsent"] == 1
    assert after["tracklists_outbox_oldest_unsent_seconds"] >= 0
    assert after["tracklists_crawl_queue_depth"] - before["tracklists_crawl_queue_depth"] == 1
    assert after["tracklists_db_pool_size"] >= 1


def _evictions(client: FlaskClient) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    match = re.search(r"^tracklists_cache_evictions_total ([0-9.e+-]+)$", text, re.M)
    assert match is not None, text
    return float(match.group(1))


def test_redis_evictions_are_counted(api_settings: Settings) -> None:
    redis_server_available()
    server = PrivateRedis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    server.start()
    try:
        client = create_app(api_settings.model_copy(update={"redis_url": server.url})).test_client()
        assert _evictions(client) == 0
        filler = redis.Redis.from_url(server.url)
        for number in range(400):  # 4 MB into 2: Redis must evict
            filler.set(f"filler:{number}", b"x" * 10_000)
        filler.close()
        assert _evictions(client) > 0
    finally:
        server.kill()

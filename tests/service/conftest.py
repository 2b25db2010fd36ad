"""Fixtures of the use-case tests: sessions on each backend, and a crawl queue of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.crawl_queue import CrawlQueue
from store.db import make_session_factory


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    """Sessions on an empty, migrated database of each backend."""
    return make_session_factory(migrated_engine)


@pytest.fixture
def queue(sessions: sessionmaker[Session], redis_url: str) -> Iterator[CrawlQueue]:
    """A crawl queue under a Redis key of the test's own, deleted afterwards."""
    crawl_queue = CrawlQueue(
        redis.Redis.from_url(redis_url), sessions, f"test:service:{uuid.uuid4().hex[:8]}"
    )
    yield crawl_queue
    crawl_queue.redis.delete(crawl_queue.key)
    crawl_queue.redis.close()

"""Fixtures for the politeness tests: the local site, a private Redis key space, settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from politeness_crawl import REDIS_URL, USER_AGENT

from crawler.localsite import LocalSite, robots_txt


@pytest.fixture
def site(real_pages: Path) -> Iterator[LocalSite]:
    """The local site with the real pages and a quick robots.txt (Crawl-delay 0.5)."""
    with LocalSite.from_directories(
        [real_pages], robots_txt=robots_txt(crawl_delay=0.5)
    ) as running:
        yield running


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own on the test Redis database, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        # As tests/conftest.py's service_unavailable: skip locally, fail in CI.
        if os.environ.get("CI"):
            pytest.fail(f"required service unavailable in CI: Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} unreachable: {exc}")
    prefix = f"test:politeness:{uuid.uuid4().hex[:10]}:"
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def crawl_settings(redis_prefix: str) -> dict[str, Any]:
    """Settings for a quick crawl: no AutoThrottle or delay floor, so Crawl-delay is visible."""
    return {
        "USER_AGENT": USER_AGENT,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 10,
        "TRACKLIST_REDIS_URL": REDIS_URL,
        "TRACKLIST_BUDGET_KEY_PREFIX": redis_prefix,
        "TRACKLIST_RETRY_DELAY_BASE": 0.2,
    }

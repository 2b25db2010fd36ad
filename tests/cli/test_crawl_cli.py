"""``tracklists crawl request|status``: SSRF-safe intake into the queue, and status lookups."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis

from store.crawl_queue import DEFAULT_QUEUE_KEY
from store.db import make_engine
from store.migrate import upgrade

URL = "https://www.1001tracklists.com/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"


def _cli(database_url: str, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    env.update(TRACKLIST_DATABASE_URL=database_url, TRACKLIST_REDIS_URL=redis_url)
    return subprocess.run(
        [sys.executable, "-m", "cli", "crawl", *args],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )


def test_request_then_status(sqlite_url: str, redis_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    client = redis.Redis.from_url(redis_url)
    client.delete(DEFAULT_QUEUE_KEY)
    try:
        queued = _cli(sqlite_url, redis_url, "request", URL, "--force-refresh")
        assert queued.returncode == 0, queued.stderr
        correlation_id, url = queued.stdout.strip().split("\t")
        assert url == URL
        assert client.llen(DEFAULT_QUEUE_KEY) == 1
        shown = _cli(sqlite_url, redis_url, "status", correlation_id)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"queued\t{URL}\tattempts=0")
    finally:
        client.delete(DEFAULT_QUEUE_KEY)
        client.close()


def test_unsafe_urls_are_refused_before_anything_is_queued(sqlite_url: str, redis_url: str) -> None:
    for bad in (
        "http://127.0.0.1/tracklist/a/b.html",
        "file:///etc/passwd",
        "https://user@www.1001tracklists.com/tracklist/a/b.html",
    ):
        refused = _cli(sqlite_url, redis_url, "request", URL, bad)
        assert refused.returncode == 1
        assert "refused" in refused.stderr


def test_status_of_unknown_or_malformed_ids(sqlite_url: str, redis_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    assert "not a correlation id" in _cli(sqlite_url, redis_url, "status", "xyz").stderr
    missing = _cli(sqlite_url, redis_url, "status", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1
    assert "no crawl request" in missing.stderr

"""End to end: a batch crawl followed with ``tracklists batch status --wait`` while a real
worker crawls the local replay site; the job's progress is the worker's outcomes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.crawling import ROOT, crawl_env, start_spider

from crawler.localsite import LocalSite, Rule
from service.batch_progress import batch_state
from service.batches import submit_crawl_batch
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import Tracklist

pytestmark = pytest.mark.e2e
SITE = "https://www.1001tracklists.com"


def test_batch_progress_follows_a_real_worker(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    key = f"test:batch:{uuid.uuid4().hex[:8]}"
    sessions = make_session_factory(database)
    queue = CrawlQueue(redis.Redis.from_url(redis_url), sessions, key)
    good = json.loads(
        (real_pages / "expected" / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.json").read_text()
    )["url"]
    blocked = "/tracklist/zzzz0001/blocked-set.html"
    site.add_rule(blocked, Rule(antibot="challenge"))
    inputs = [
        good,
        SITE + blocked,
        f"{SITE}/tracklist/nope0000/missing.html",
        "http://127.0.0.1/tracklist/abc/x.html",
    ]
    batch_id = submit_crawl_batch(sessions, queue, inputs, max_age=timedelta(hours=24))

    env = crawl_env(site.base_url, postgres_url, redis_url)
    worker = start_spider(
        "worker",
        env,
        settings={
            "TRACKLIST_CRAWL_QUEUE_KEY": key,
            "MAX_IDLE_TIME_BEFORE_CLOSE": "3",
            "TRACKLIST_ANTIBOT_BACKOFF_BASE": "0.5",
        },
    )
    try:
        follow = ["batch", "status", str(batch_id), "--wait", "--interval", "0.2"]
        followed = subprocess.run(
            [sys.executable, "-m", "cli", *follow, "--timeout", "120"],
            env={**env, "TRACKLIST_DATABASE_URL": postgres_url},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
        queue.redis.delete(key)
    log = worker.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
    assert worker.returncode == 0, log[-3000:]
    os.unlink(worker.log_path)  # type: ignore[attr-defined]

    assert followed.returncode == 1, followed.stderr  # some items failed
    rows = [line.split("\t") for line in followed.stdout.splitlines()[1:]]
    assert [row[1] for row in rows] == ["done", "blocked", "failed", "failed"]
    assert "done, 1 done, 3 failed, 0 pending of 4" in followed.stderr
    with Session(database) as session:
        stored = session.scalars(select(Tracklist)).one()
        state = batch_state(session, batch_id)
    assert state is not None
    assert state.items[0].tracklist_id == stored.id  # known once the worker stored the page
    assert rows[0][3] == str(stored.id)
    assert state.finished_at is not None

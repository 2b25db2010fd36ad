"""A crawl ends cleanly however it ends: SIGKILLed, nothing of it lives on; SIGTERMed, a worker
stops at once, whatever its requests wait for, and hands them back to the queue."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, start_spider
from support.processes import command_line, descendants, wait_until_gone

from crawler.localsite import LocalSite, Rule
from crawler.localsite.synthetic import add_distinct_tracklists
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import CrawlRequest, Tracklist

pytestmark = pytest.mark.e2e
PAGE = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
# docs/operations.md: a worker stops within this many seconds of SIGTERM when its requests
# wait in the politeness middlewares (a paused host, a turn, a retry backoff).
STOP_BOUND = 10.0


def _wait(condition: Callable[[], bool], timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        log = process.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
        assert process.poll() is None, log[-3000:]
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Never leave the crawl behind, whatever the test found."""
    if process.poll() is None:
        process.kill()
    process.wait()


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_sigkilled_crawl_leaves_no_process_behind(
    site: LocalSite,
    database: Engine,
    postgres_url: str,
    redis_url: str,
    real_pages: Path,
    tmp_path: Path,
) -> None:
    urls = add_distinct_tracklists(site.store, [(real_pages / PAGE).read_bytes()], 2)
    # The second page never comes in time: the crawl is still running when it is killed.
    site.add_rule(urlsplit(urls[1]).path, Rule(delay=30, times=1))
    listed = tmp_path / "urls.txt"
    listed.write_text("\n".join(urls) + "\n")
    env = crawl_env(site.base_url, postgres_url, redis_url)
    settings = {"TRACKLIST_PARSE_PROCESSES": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
    crawl = start_spider("tracklist", env, f"urls_file={listed}", settings=settings)
    try:
        # A page parsed in the pool: the fork server, its worker and the tracker are up.
        _wait(lambda: _count(database, Tracklist) >= 1, 120, crawl)
        tree = descendants(crawl.pid)
        commands = {pid: command_line(pid) for pid in tree}
        assert sum("forkserver" in c for c in commands.values()) >= 2, commands  # server, worker
        assert any("resource_tracker" in c for c in commands.values()), commands
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait()
    finally:
        _stop(crawl)
    survivors = wait_until_gone(tree, 5)
    for pid in survivors:  # never leave them behind, even when the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert survivors == set(), commands


@pytest.fixture
def queue(database: Engine, redis_url: str) -> Iterator[CrawlQueue]:
    crawl_queue = CrawlQueue(
        redis.Redis.from_url(redis_url),
        make_session_factory(database),
        f"test:stops:{uuid.uuid4().hex[:8]}",
    )
    yield crawl_queue
    crawl_queue.redis.delete(crawl_queue.key)


def test_sigterm_stops_a_worker_waiting_on_a_paused_host(
    site: LocalSite,
    database: Engine,
    queue: CrawlQueue,
    postgres_url: str,
    redis_url: str,
    real_pages: Path,
) -> None:
    # robots.txt answering 503 pauses the host for 600 s (TRACKLIST_ROBOTS_5XX_DEFER).
    site.add_rule("/robots.txt", Rule(status=503))
    [url] = add_distinct_tracklists(site.store, [(real_pages / PAGE).read_bytes()], 1)
    queue.submit(url)
    env = crawl_env(site.base_url, postgres_url, redis_url)
    settings = {
        "TRACKLIST_CRAWL_QUEUE_KEY": queue.key,
        "TRACKLIST_ROBOTS_5XX_DEFER": "600",
        "MAX_IDLE_TIME_BEFORE_CLOSE": "0",
    }
    worker = start_spider("worker", env, settings=settings)

    def state() -> str | None:
        with Session(database) as session:
            return session.scalar(select(CrawlRequest.status).where(CrawlRequest.url == url))

    try:
        _wait(lambda: state() == "running" and bool(site.requests("/robots.txt")), 120, worker)
        log = worker.log_path  # type: ignore[attr-defined]
        _wait(lambda: "robots.txt of" in log.read_text(errors="replace"), 30, worker)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker ignored SIGTERM for {STOP_BOUND} s")
    finally:
        _stop(worker)
    text = log.read_text(errors="replace")
    assert worker.returncode == 0, text[-3000:]
    assert state() == "queued", text[-3000:]
    assert [r.path for r in site.requests()] == ["/robots.txt"]  # the page was never fetched
    # Handed back through Redis too: the next worker takes it at once.
    assert [job.url for job in queue.take(10, "next-worker", 60)] == [url]

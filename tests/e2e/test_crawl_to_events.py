"""End to end: spiders crawl the local replay site into PostgreSQL, events reach RabbitMQ."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pika
import pytest
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, run_spider

from crawler.localsite import LocalSite, Rule
from messaging.topology import declare_events_exchange, delete_events_exchange
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import CrawlRequest, OutboxEvent, Tracklist, TracklistEntry, TracklistVersion

pytestmark = pytest.mark.e2e


@pytest.fixture
def expected(real_pages: Path) -> dict[str, dict[str, object]]:
    documents = [
        json.loads(p.read_text()) for p in (real_pages / "expected").glob("tracklist_*.json")
    ]
    return {str(d["tracklist_id"]): d for d in documents}


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_tracklist_spider_stores_every_page_and_events_go_out(
    site: LocalSite,
    database: Engine,
    postgres_url: str,
    redis_url: str,
    rabbitmq_url: str,
    expected: dict[str, dict[str, object]],
    tmp_path: Path,
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(str(d["url"]) for d in expected.values()) + "\n")
    env = crawl_env(site.base_url, postgres_url, redis_url)
    result = run_spider("tracklist", env, f"urls_file={urls}")
    assert result.returncode == 0, result.stderr[-3000:]
    # Logs are JSON lines; each stored page is one event naming its URL.
    lines = result.stderr.strip().splitlines()
    events = [json.loads(line) for line in lines]  # every line, from the first
    stored_lines = [e for e in events if e["logger"] == "pipelines.storage"]
    assert {e.get("url") for e in stored_lines} == {d["url"] for d in expected.values()}
    assert all(e["component"] == "crawler" for e in events)

    with Session(database) as session:
        stored = {t.site_id: t for t in session.scalars(select(Tracklist))}
        assert set(stored) == set(expected)
        for site_id, document in expected.items():
            entries = session.scalars(
                select(TracklistEntry)
                .where(TracklistEntry.tracklist_id == stored[site_id].id)
                .order_by(TracklistEntry.row)
            ).all()
            assert [e.title for e in entries] == [e["title"] for e in document["entries"]]  # type: ignore[index,union-attr]
            assert [None if e.cue_ms is None else e.cue_ms // 1000 for e in entries] == [
                e["cue_seconds"]
                for e in document["entries"]  # type: ignore[index,union-attr]
            ]
    assert _count(database, TracklistVersion) == len(expected)
    assert _count(database, OutboxEvent) == 2 * len(expected)  # processed + cataloged
    fetched = [r.path for r in site.requests() if r.path.startswith("/tracklist/")]
    assert len(fetched) == len(expected)
    assert all("TracklistService" in r.user_agent for r in site.requests())

    # A scheduled re-run fetches every page again, and unchanged pages change nothing.
    again = run_spider("tracklist", env, f"urls_file={urls}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert len([r for r in site.requests() if r.path.startswith("/tracklist/")]) == 2 * len(
        expected
    )
    assert _count(database, TracklistVersion) == len(expected)
    assert _count(database, OutboxEvent) == 2 * len(expected)  # processed + cataloged

    # The relay delivers every event to a consumer bound to the exchange.
    exchange = f"e2e_{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    assert declare_events_exchange(connection, exchange)  # as the service declares it
    channel = connection.channel()
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="tracklist.#")
    try:
        relay = subprocess.run(
            [sys.executable, "-m", "cli", "relay", "--once"],
            env={
                **env,
                "TRACKLIST_MQ_RABBITMQ_URL": rabbitmq_url,
                "TRACKLIST_MQ_EXCHANGE_NAME": exchange,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert relay.returncode == 0, relay.stderr
        bodies = []
        while True:
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            bodies.append(json.loads(body))
        with Session(database) as session:
            ids = {str(t.id) for t in session.scalars(select(Tracklist))}
        assert {b["tracklist_id"] for b in bodies} == ids
        kinds = sorted(b["event_type"] for b in bodies)
        assert kinds == sorted(["tracklist.processed", "tracklist.cataloged"] * len(expected))
    finally:
        delete_events_exchange(channel, exchange)
        connection.close()


def test_worker_records_done_blocked_and_failed(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    key = f"test:worker:{uuid.uuid4().hex[:8]}"
    queue = CrawlQueue(redis.Redis.from_url(redis_url), make_session_factory(database), key)
    good = json.loads(
        (real_pages / "expected" / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.json").read_text()
    )
    blocked_path = "/tracklist/zzzz0001/blocked-set.html"
    site.add_rule(blocked_path, Rule(antibot="challenge"))
    ok = queue.submit(good["url"])
    blocked = queue.submit("https://www.1001tracklists.com" + blocked_path)
    missing = queue.submit("https://www.1001tracklists.com/tracklist/nope0000/missing.html")
    offsite = queue.submit("https://evil.example.com/tracklist/x/y.html")

    env = crawl_env(site.base_url, postgres_url, redis_url)
    settings = {
        "TRACKLIST_CRAWL_QUEUE_KEY": key,
        "MAX_IDLE_TIME_BEFORE_CLOSE": "3",
        # The challenge pauses the host (300 s by default); keep the test short.
        "TRACKLIST_ANTIBOT_BACKOFF_BASE": "0.5",
    }
    result = run_spider("worker", env, settings=settings)
    assert result.returncode == 0, result.stderr[-3000:]

    with Session(database) as session:
        states = {r.correlation_id: r for r in session.scalars(select(CrawlRequest))}
        stored = session.scalars(select(Tracklist)).one()
    assert states[ok.correlation_id].status == "done"
    assert states[ok.correlation_id].tracklist_id == stored.id
    assert states[blocked.correlation_id].status == "blocked"
    assert states[missing.correlation_id].status == "failed"
    assert states[offsite.correlation_id].status == "failed"
    assert "not on the site" in (states[offsite.correlation_id].error or "")
    assert not any(r.path == "/tracklist/x/y.html" for r in site.requests())
    queue.redis.delete(key)

"""The truth test: crawl a hostile replay of the site twice, then hold the API to the truth.

At least 200 distinct tracklists are served by the local site in hostile mode
(``crawler.localsite.hostile``): each request gets the true page or, at set rates, a decoy,
a page cut short, a redirect to another host, an anti-bot page, 429/503 with Retry-After, a
slow answer, a dropped connection or 404/410; some tracklists are gone for good. Three crawl
workers take the requests from one queue, twice (as scheduled re-crawls do). Then, for every
tracklist, what ``GET /tracklist/{id}`` serves must be exactly the true page's rows, or the
tracklist must be unserved with a reason (blocked, failed, held) or marked gone.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, start_spider

from api import create_app
from config.settings import Settings
from crawler.localsite import HostileMode, LocalSite, robots_txt
from crawler.localsite.pages import PageStore
from crawler.localsite.synthetic import add_distinct_tracklists
from crawler.pages import TracklistPage, parse_page
from domain.site import tracklist_site_id
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models import CrawlRequest, Tracklist

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(900)]

TRACKLISTS = 210
GONE = 10  # of them deleted for good: 404 or 410 on every request
WORKERS = 3
SEED = 20261202
RATES = {
    "decoy": 0.10,
    "truncated": 0.08,
    "redirect": 0.05,
    "challenge": 0.02,
    "captcha": 0.02,
    "ip_blocked": 0.02,
    "rate_limited": 0.04,
    "unavailable": 0.04,
    "slow": 0.03,
    "dropped": 0.03,
    "not_found": 0.01,
    "gone": 0.01,
}
UNSERVED_WITH_A_REASON = ("blocked", "failed", "held")
_RETRIES = re.compile(r"'retry/count': (\d+)")


@pytest.fixture
def database(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _recorded(store: PageStore, path: str) -> TracklistPage:
    found = store.find("GET", path, {})
    assert found is not None
    page = parse_page(found.body)
    assert isinstance(page, TracklistPage)
    return page


def _rows(page: TracklistPage) -> list[tuple[object, ...]]:
    return [(e.row, e.position, e.artist, e.title, e.version, e.label) for e in page.entries]


def _served_rows(body: dict[str, Any]) -> list[tuple[object, ...]]:
    return [
        (t["number"], t["position"], t["artist"], t["title"], t["remix"], t["label"])
        for t in body["tracks"]
    ]


def _crawl_pass(queue: CrawlQueue, urls: list[str], env: dict[str, str], key: str) -> int:
    """Queue every URL again and let the workers take them all; returns the retries made."""
    for url in urls:
        queue.submit(url, force_refresh=True)
    settings = {
        "TRACKLIST_CRAWL_QUEUE_KEY": key,
        "MAX_IDLE_TIME_BEFORE_CLOSE": "6",
        "TRACKLIST_WORKER_RENEW_INTERVAL": "2",
        "TRACKLIST_ANTIBOT_BACKOFF_BASE": "0.2",
        "TRACKLIST_ANTIBOT_BACKOFF_MAX": "0.8",
        "DOWNLOAD_TIMEOUT": "10",
    }
    workers = [start_spider("worker", env, settings=settings) for _ in range(WORKERS)]
    retries = 0
    try:
        for worker in workers:
            log = worker.log_path  # type: ignore[attr-defined]
            assert worker.wait(timeout=600) == 0, log.read_text()[-3000:]
            retries += sum(int(n) for n in _RETRIES.findall(log.read_text()))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            worker.log_path.unlink(missing_ok=True)  # type: ignore[attr-defined]
    return retries


def test_what_the_api_serves_is_what_the_site_really_said(
    real_pages: Path,
    database: Engine,
    postgres_url: str,
    redis_url: str,
    report_figure: Callable[[str], None],
) -> None:
    store = PageStore()
    store.load_directory(real_pages)  # the anti-bot pages the site answers with
    bodies = [path.read_bytes() for path in sorted(real_pages.glob("tracklist_*.html"))]
    urls = add_distinct_tracklists(store, bodies, TRACKLISTS)
    paths = [url.removeprefix("https://www.1001tracklists.com") for url in urls]
    gone = {path: (404 if number % 2 else 410) for number, path in enumerate(paths[:GONE])}
    truth = {path: _recorded(store, path) for path in paths}
    key = f"test:truth:{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    queue = CrawlQueue(client, make_session_factory(database), key)
    # Redirects go to this server under another name, and to another server: neither may
    # see a request.
    with LocalSite(PageStore()) as elsewhere:
        hostile = HostileMode(
            seed=SEED,
            rates=RATES,
            gone=gone,
            slow_seconds=1.0,
            retry_after=1,
            redirect_hosts=("localhost:{port}", f"127.0.0.1:{elsewhere.port}"),
        )
        with LocalSite(store, robots_txt=robots_txt(crawl_delay=None), hostile=hostile) as site:
            env = crawl_env(
                site.base_url,
                postgres_url,
                redis_url,
                TRACKLIST_SCRAPING_MAX_RETRIES="2",
                TRACKLIST_SCRAPING_RETRY_DELAY_BASE="0.2",
            )
            try:
                retries = sum(_crawl_pass(queue, urls, env, key) for _ in range(2))
            finally:
                client.delete(key)
                client.close()
            hosts = {record.headers.get("host") for record in site.requests()}
            own_host = f"127.0.0.1:{site.port}"
        reached_elsewhere = elsewhere.requests()
    settings = Settings(
        environment="test",
        database_url=postgres_url,
        redis_url=redis_url,
        cache_key_prefix=f"{key}:",
        cache_enabled=False,
        jwt_secret="truth-test-" + "x" * 32,
        api_rate_limit_anonymous="100000/minute",
    )
    api = create_app(settings).test_client()

    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    with Session(database) as session:
        for url, path in zip(urls, paths, strict=True):
            page = truth[path]
            stored = session.scalars(
                select(Tracklist).where(Tracklist.site_id == tracklist_site_id(path))
            ).first()
            latest = session.scalars(
                select(CrawlRequest)
                .where(CrawlRequest.url == url)
                .order_by(CrawlRequest.created_at.desc())
            ).first()
            assert latest is not None
            served = api.get(f"/api/v1/tracklist/{stored.id}") if stored is not None else None
            if served is not None and served.status_code == 200:
                if _served_rows(served.json) != _rows(page):
                    wrong.append(f"{path}: served rows differ from the true page")
                outcomes[
                    "gone" if stored is not None and stored.status == "gone" else "served"
                ] += 1
            elif latest.status in UNSERVED_WITH_A_REASON and latest.error:
                outcomes[f"unserved ({latest.status})"] += 1
            else:
                answer = served.status_code if served is not None else "nothing stored"
                wrong.append(
                    f"{path}: not served ({answer}), request {latest.status}: {latest.error}"
                )
            if path in gone:
                assert stored is None or stored.status == "gone", path
    counts = hostile.counts()
    report_figure(
        f"{TRACKLISTS} tracklists, {WORKERS} workers, 2 passes; answers "
        + ", ".join(f"{kind} {number}" for kind, number in sorted(counts.items()))
    )
    report_figure(
        "outcomes "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(outcomes.items()))
        + f"; retried requests {retries}; rows from decoys or cut pages served {len(wrong)}"
    )
    assert not wrong, "\n".join(wrong[:20])
    assert hosts == {own_host}, hosts  # no request followed a redirect off the site
    assert reached_elsewhere == []
    assert outcomes["served"] >= TRACKLISTS // 2  # most tracklists came through right

"""Redirects, crawled for real: a hop off the site is never followed, a moved tracklist is
stored under the id its page declares and found again by its old address.

The worker crawls the local replay site; other local sites listen where the redirects point
(another port, ``localhost``, the IPv6 loopback) and their request logs show what reached
them.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, run_spider

from api import create_app
from api.extensions import db
from config.settings import Settings
from crawler.localsite import LocalSite, Rule, robots_txt
from service import intake
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import CrawlRequest, Tracklist, TracklistAlias

pytestmark = pytest.mark.e2e
SITE = "https://www.1001tracklists.com"
OFF_SITE = "off_site_redirect: the site redirected to another host"
# Every kind of redirect Scrapy follows: the statuses, and a meta refresh.
KINDS = ("301", "302", "303", "307", "308", "meta")
OLD_PATH = "/tracklist/old0001/bicep-old.html"


@pytest.fixture
def queue_key() -> str:
    return f"test:redirects:{uuid.uuid4().hex[:8]}"


def _queue(engine: Engine, redis_url: str, key: str) -> CrawlQueue:
    return CrawlQueue(redis.Redis.from_url(redis_url), make_session_factory(engine), key)


def _run_worker(env: dict[str, str], key: str, **settings: str) -> str:
    """Run the worker until its queue is empty; its log (JSON lines)."""
    result = run_spider(
        "worker",
        env,
        settings={"TRACKLIST_CRAWL_QUEUE_KEY": key, "MAX_IDLE_TIME_BEFORE_CLOSE": "3", **settings},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def _redirect(kind: str, target: str) -> Rule:
    if kind == "meta":
        refresh = f'<meta http-equiv="refresh" content="0; url={target}">'
        return Rule(body=f"<html><head>{refresh}</head><body></body></html>".encode())
    return Rule(status=int(kind), headers={"Location": target})


def _stat(log: str, name: str) -> int:
    """A counter from the stats the crawl dumps when it closes."""
    found = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(found.group(1)) if found else 0


def test_redirects_off_the_site_are_never_followed(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, queue_key: str
) -> None:
    # No Crawl-delay there: were a redirect followed, the crawl would not wait on it for long.
    quick = robots_txt(crawl_delay=None)
    with (
        LocalSite(robots_txt=quick) as elsewhere,
        LocalSite(robots_txt=quick, host="::1", port=site.port) as ipv6,
    ):
        targets = [
            f"http://localhost:{elsewhere.port}",  # another port, by name
            elsewhere.base_url,  # another port on the site's own address
            ipv6.base_url,  # the site's port on the IPv6 loopback
            f"http://localhost:{site.port}",  # the site's port under another name
        ]
        queue = _queue(database, redis_url, queue_key)
        asked: dict[str, str] = {}
        for kind in KINDS:
            for number, target in enumerate(targets):
                path = f"/tracklist/r{kind}{number}/moved.html"
                site.add_rule(path, _redirect(kind, f"{target}/landed/{kind}{number}.html"))
                asked[path] = queue.submit(SITE + path).correlation_id
        # Every hop is checked: a same-site hop is followed, the next one (elsewhere) is not.
        site.add_rule("/tracklist/chain1/a.html", _redirect("301", "/tracklist/chain1/b.html"))
        site.add_rule("/tracklist/chain1/b.html", _redirect("302", f"{targets[0]}/landed/c.html"))
        asked["/tracklist/chain1/a.html"] = queue.submit(
            SITE + "/tracklist/chain1/a.html"
        ).correlation_id

        env = crawl_env(site.base_url, postgres_url, redis_url)
        # Scrapy's default resolver knows no IPv6 (a hop to [::1] would fail to resolve before
        # the check mattered); this one reaches ::1 as a differently configured crawler would.
        log = _run_worker(env, queue_key, DNS_RESOLVER="scrapy.resolver.CachingHostnameResolver")
        queue.redis.delete(queue_key)

        # Nothing reached the other hosts, not even a robots.txt.
        assert elsewhere.requests() == []
        assert ipv6.requests() == []
        assert not [r.path for r in site.requests() if r.path.startswith("/landed/")]
        # ... though they listen, and log what does reach them.
        assert requests.get(elsewhere.url("/robots.txt"), timeout=5).ok
        assert requests.get(ipv6.url("/robots.txt"), timeout=5).ok
        assert [r.path for r in elsewhere.requests() + ipv6.requests()] == ["/robots.txt"] * 2

    # The site did redirect every request, once; each one failed, and nothing was stored.
    for path in asked:
        answered = [r.status for r in site.requests(path)]
        assert len(answered) == 1, path
        assert answered[0] in (200, 301, 302, 303, 307, 308)
    assert [r.status for r in site.requests("/tracklist/chain1/b.html")] == [302]
    with Session(database) as session:
        states = {r.correlation_id: r for r in session.scalars(select(CrawlRequest))}
        assert session.scalars(select(Tracklist)).first() is None
    for path, correlation_id in asked.items():
        assert (states[correlation_id].status, states[correlation_id].error) == (
            "failed",
            OFF_SITE,
        ), path
    assert _stat(log, "redirects/off_site") == len(asked)


def test_a_moved_tracklist_is_stored_under_its_new_id_and_found_by_the_old(
    site: LocalSite,
    migrated_engine: Engine,
    any_database_url: str,
    redis_url: str,
    queue_key: str,
    real_pages: Path,
) -> None:
    document = json.loads(
        (real_pages / "expected" / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.json").read_text()
    )
    old_path, new_path = OLD_PATH, "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
    # The id and the slug moved: the old address redirects (relative, then absolute).
    site.add_rule(old_path, _redirect("301", "/tracklist/2hjnqr0t/x.html"))
    site.add_rule("/tracklist/2hjnqr0t/x.html", _redirect("308", site.url(new_path)))
    old_url = SITE + old_path
    queue = _queue(migrated_engine, redis_url, queue_key)
    request = queue.submit(old_url)

    log = _run_worker(crawl_env(site.base_url, any_database_url, redis_url), queue_key)
    queue.redis.delete(queue_key)

    assert [r.path for r in site.requests() if r.path.startswith("/tracklist/")] == [
        old_path,
        "/tracklist/2hjnqr0t/x.html",
        new_path,
    ]
    with Session(migrated_engine) as session:
        stored = session.scalars(select(Tracklist)).one()
        assert (stored.site_id, stored.url) == ("2hjnqr0t", document["url"])
        done = session.scalars(select(CrawlRequest)).one()
        assert (done.correlation_id, done.status, done.tracklist_id) == (
            request.correlation_id,
            "done",
            stored.id,
        )
        aliases = [(a.site_id, a.tracklist_id) for a in session.scalars(select(TracklistAlias))]
        assert aliases == [("old0001", stored.id)]
        found = intake.stored_by_url(session, old_url)
        assert found is not None
        assert found.id == stored.id
        # So a client asking for the old address again gets the stored tracklist.
        again = intake.decide(session, queue, old_url, max_age=timedelta(hours=1))
        assert again.tracklist is not None
        assert again.tracklist.id == stored.id
    assert _stat(log, "redirects/off_site") == 0


def test_a_refused_connection_shows_no_address_in_the_crawl_status(
    database: Engine, postgres_url: str, redis_url: str, queue_key: str
) -> None:
    with LocalSite() as closed:  # a free port, closed again: nothing listens there
        base_url = closed.base_url
    queue = _queue(database, redis_url, queue_key)
    request = queue.submit(SITE + "/tracklist/abc123/unreachable.html")
    env = crawl_env(base_url, postgres_url, redis_url)
    # robots.txt is refused: the request is dropped at the first failure, not after minutes.
    _run_worker(
        env, queue_key, TRACKLIST_ROBOTS_5XX_DEFER="0.1", TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS="1"
    )
    queue.redis.delete(queue_key)

    settings = Settings(
        environment="test", database_url=postgres_url, redis_url=redis_url, jwt_secret="s" * 32
    )
    app = create_app(settings)
    status = app.test_client().get(f"/api/v1/tracklist/status/{request.correlation_id}")
    with app.app_context():
        db.engine.dispose()
    assert status.status_code == 200
    error = status.json["error"]
    assert status.json["status"] == "failed"
    assert error.startswith("RobotsTxtUnavailable: robots.txt of <address> failed"), error
    port = base_url.rsplit(":", 1)[1]
    assert "127.0.0.1" not in error
    assert port not in error

"""The service on several hosts: three crawl workers, two API replicas behind nginx, one state.

Hosts are network namespaces on a bridge this test makes (:mod:`support.netns`): the replay
site on a host of its own, three crawl-worker hosts, two API hosts and a load-balancer host
running Debian's nginx with the deployment's own configuration (``deploy/nginx``, through
:mod:`support.nginx`). PostgreSQL,
RabbitMQ and a private Redis are this machine's, reached from the hosts through forwarders on
the bridge. The test shows, and prints as figures:

- the site sees one budget: with workers on three hosts, requests stay Crawl-delay apart;
- a worker host killed mid-crawl loses nothing: its leases go to the others, every request
  ends done, every tracklist is stored once with one version and one event;
- a crawl is served by both replicas within the cache-stamp time; a CUE file made through one
  replica downloads from the other; a logout on one is honoured by the other; one user's rate
  limit is one allowance across both;
- one API host killed under load: nginx sends everything to the other, and no request fails
  beyond those in flight at the cut.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from support.crawling import spider_command
from support.netns import Host, TestNetwork, network_unavailable_reason
from support.nginx import check_config, nginx_argv, nginx_config
from support.private_redis import PrivateRedis, redis_server_available
from support.tcpproxy import TcpProxy

from crawler.localsite.pages import PageStore
from crawler.localsite.synthetic import add_distinct_tracklists
from service.accounts import create_user
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models import CrawlRequest, OutboxEvent, Tracklist, TracklistVersion

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
TRACKLISTS = 30
CRAWL_DELAY = 0.3  # the site's robots.txt Crawl-delay: the floor between two requests
TOLERANCE = 0.02  # arrival jitter over the bridge, far below the floor
SITE_PORT = 8080
API_PORT = 8000
PASSWORD = "multi-host password"
USER_LIMIT = 12  # authenticated requests per user and hour: one allowance across replicas


def _skip_without_network() -> None:
    reason = network_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the multi-host test: {reason}")
        pytest.skip(reason)


@dataclass
class Cluster:
    """The hosts and the handles the test checks them through."""

    network: TestNetwork
    engine: Engine
    queue: CrawlQueue
    env: dict[str, str]
    logs: Path
    urls: list[str]

    def host(self, name: str) -> Host:
        return self.network.hosts[name]

    def api(self, name: str) -> str:
        return f"http://{self.host(name).address}:{API_PORT}/api/v1"

    def statuses(self) -> Counter[str]:
        with Session(self.engine) as session:
            rows = session.execute(
                select(CrawlRequest.status, func.count()).group_by(CrawlRequest.status)
            )
            return Counter({status: count for status, count in rows})

    def log_tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]


def _wait(condition: Callable[[], object], timeout: float, what: Callable[[], str]) -> float:
    """Poll until ``condition`` is true; the seconds it took (``what`` explains a time-out)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what()}")
        time.sleep(0.1)
    return time.monotonic() - start


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def cluster(
    real_pages: Path, postgres_url: str, rabbitmq_url: str, tmp_path: Path
) -> Iterator[Cluster]:
    _skip_without_network()
    redis_server_available()
    engine = make_engine(postgres_url)
    upgrade(engine)
    database = make_url(postgres_url)
    logs = tmp_path / "logs"
    logs.mkdir()
    private_redis = PrivateRedis()
    private_redis.start()
    try:
        with TestNetwork() as network:
            gateway = network.gateway
            with (
                TcpProxy("127.0.0.1", database.port or 5432, listen_host=gateway) as pg,
                TcpProxy("127.0.0.1", private_redis.port, listen_host=gateway) as cache,
                TcpProxy("127.0.0.1", 5672, listen_host=gateway) as broker,
            ):
                yield _start(
                    network,
                    engine,
                    database.database or "",
                    (pg, cache, broker),
                    private_redis,
                    rabbitmq_url,
                    real_pages,
                    logs,
                    tmp_path,
                )
    finally:
        private_redis.kill()
        engine.dispose()


def _start(
    network: TestNetwork,
    engine: Engine,
    database: str,
    proxies: tuple[TcpProxy, TcpProxy, TcpProxy],
    private_redis: PrivateRedis,
    rabbitmq_url: str,
    real_pages: Path,
    logs: Path,
    tmp_path: Path,
) -> Cluster:
    pg, cache, broker = proxies
    gateway = network.gateway
    for name in ("site", "worker-1", "worker-2", "worker-3", "api-1", "api-2", "lb"):
        network.add_host(name)
    tag = uuid.uuid4().hex[:8]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    env.update(
        PYTHONPATH=str(ROOT),
        TRACKLIST_ENVIRONMENT="test",
        TRACKLIST_LOG_FORMAT="text",
        TRACKLIST_DATABASE_URL=f"postgresql+psycopg://postgres@{gateway}:{pg.port}/{database}",
        TRACKLIST_REDIS_URL=f"redis://{gateway}:{cache.port}/0",
        TRACKLIST_CACHE_REDIS_HOST=gateway,
        TRACKLIST_CACHE_REDIS_PORT=str(cache.port),
        TRACKLIST_CACHE_REDIS_DB="1",
        TRACKLIST_MQ_RABBITMQ_URL=f"amqp://guest:guest@{gateway}:{broker.port}/",
        TRACKLIST_MQ_EXCHANGE_NAME=f"multihost_{tag}",
        TRACKLIST_JWT_SECRET="multi-host-secret-" + "x" * 32,
        TRACKLIST_SCRAPING_BASE_URL=f"http://{network.hosts['site'].address}:{SITE_PORT}",
        TRACKLIST_SCRAPING_RATE_LIMIT_DELAY="0",
        TRACKLIST_WORKER_LEASE_SECONDS="4",
        TRACKLIST_WORKER_RENEW_INTERVAL="1",
        TRACKLIST_WORKER_REQUEUE_AFTER="5",
        TRACKLIST_API_TRUSTED_PROXIES="1",
        TRACKLIST_API_RATE_LIMIT_ANONYMOUS="1000000/minute",
        TRACKLIST_API_RATE_LIMIT_LOGIN="1000/minute",
        TRACKLIST_API_RATE_LIMIT_AUTHENTICATED=f"{USER_LIMIT}/hour",
    )
    site_log = tmp_path / "site-requests.jsonl"
    site_config = {
        "pages": str(real_pages),
        "count": TRACKLISTS,
        "crawl_delay": CRAWL_DELAY,
        "port": SITE_PORT,
        "log": str(site_log),
    }
    script = str(Path(__file__).with_name("multihost_site.py"))
    network.hosts["site"].start(
        [sys.executable, script, json.dumps(site_config)], env, logs / "site.log"
    )
    for name in ("api-1", "api-2"):
        api_env = {
            **env,
            "TRACKLIST_API_HOST": "0.0.0.0",
            "TRACKLIST_API_PORT": str(API_PORT),
            "TRACKLIST_API_WORKERS": "1",
            "TRACKLIST_DATA_DIR": str(tmp_path / name),  # each replica its own local folders
        }
        network.hosts[name].start(
            [sys.executable, "-m", "cli", "serve"], api_env, logs / f"{name}.log", cwd=ROOT
        )
    _start_nginx(network, tmp_path, logs)
    urls = add_distinct_tracklists(
        PageStore(),
        [path.read_bytes() for path in sorted(real_pages.glob("tracklist_*.html"))],
        TRACKLISTS,
    )
    client = redis.Redis.from_url(private_redis.url)
    queue = CrawlQueue(client, make_session_factory(engine), f"multihost:{tag}:crawl")
    cluster = Cluster(network, engine, queue, env, logs, urls)
    cluster.site_log = site_log  # type: ignore[attr-defined]
    for name in ("api-1", "api-2"):
        _wait(
            lambda n=name: _answers(f"http://{cluster.host(n).address}:{API_PORT}/health"),
            60,
            lambda n=name: f"{n} up\n" + cluster.log_tail(n),
        )
    site = env["TRACKLIST_SCRAPING_BASE_URL"]
    _wait(
        lambda: _answers(f"{site}/robots.txt"), 60, lambda: "site up\n" + cluster.log_tail("site")
    )
    lb = network.hosts["lb"].address
    _wait(
        lambda: _answers(f"http://{lb}/health"),
        30,
        lambda: "nginx up\n" + cluster.log_tail("lb"),
    )
    return cluster


def _start_nginx(network: TestNetwork, tmp_path: Path, logs: Path) -> None:
    """nginx on the lb host with the deployment's configuration, upstreams filled in."""
    conf = nginx_config(
        tmp_path / "nginx",
        [f"{network.hosts[name].address}:{API_PORT}" for name in ("api-1", "api-2")],
        "80",
    )
    check = check_config(conf)
    assert check.returncode == 0, check.stderr
    network.hosts["lb"].start(
        nginx_argv(conf, directives="daemon off;"), os.environ.copy(), logs / "lb.log"
    )


def _start_workers(cluster: Cluster) -> None:
    settings = {
        "TRACKLIST_CRAWL_QUEUE_KEY": cluster.queue.key,
        "TRACKLIST_BUDGET_KEY_PREFIX": f"{cluster.queue.key}:budget:",  # one budget for all
        "MAX_IDLE_TIME_BEFORE_CLOSE": "0",  # keep waiting for work until stopped
        "DOWNLOAD_TIMEOUT": "10",
    }
    for number in (1, 2, 3):
        name = f"worker-{number}"
        cluster.host(name).start(
            spider_command("worker", settings=settings),
            cluster.env,
            cluster.logs / f"{name}.log",
            cwd=ROOT,
        )


def _site_requests(cluster: Cluster) -> list[dict[str, Any]]:
    cluster.host("site").stop_all()
    log: Path = cluster.site_log  # type: ignore[attr-defined]
    return [json.loads(line) for line in log.read_text().splitlines()]


def _crawl_with_a_worker_host_killed(cluster: Cluster, report: Callable[[str], None]) -> None:
    for url in cluster.urls:
        cluster.queue.submit(url)
    _start_workers(cluster)

    # Kill worker-1's host once it holds a lease and the crawl is under way.
    def worker_1_busy() -> bool:
        with Session(cluster.engine) as session:
            running = session.scalars(
                select(CrawlRequest.worker_id).where(CrawlRequest.status == "running")
            ).all()
        return cluster.statuses()["done"] >= 3 and any(
            (worker or "").startswith("worker-1:") for worker in running
        )

    _wait(worker_1_busy, 120, lambda: "worker-1 holding a lease\n" + cluster.log_tail("worker-1"))
    killed = cluster.host("worker-1").kill_all()
    done_at_kill = cluster.statuses()["done"]
    took = _wait(
        lambda: cluster.statuses()["done"] == TRACKLISTS,
        180,
        lambda: f"every request done; {cluster.statuses()}\n{cluster.log_tail('worker-2')}",
    )
    with Session(cluster.engine) as session:
        stored = session.scalar(select(func.count()).select_from(Tracklist))
        versions = session.execute(
            select(TracklistVersion.tracklist_id, func.count()).group_by(
                TracklistVersion.tracklist_id
            )
        ).all()
        events = Counter(
            (event.event_type, event.payload.get("tracklist_id"))
            for event in session.scalars(select(OutboxEvent))
        )
        retaken = session.scalar(
            select(func.count()).select_from(CrawlRequest).where(CrawlRequest.attempts > 1)
        )
        finishers = Counter(
            (worker or "").split(":")[0]
            for worker in session.scalars(select(CrawlRequest.worker_id))
        )
    assert cluster.statuses() == Counter({"done": TRACKLISTS})
    assert stored == TRACKLISTS
    assert all(count == 1 for _, count in versions), versions
    assert [key for key, count in events.items() if count > 1] == []
    assert retaken, "no request of the dead host was taken over"
    assert finishers["worker-2"] > 0, finishers
    assert finishers["worker-3"] > 0, finishers
    report(
        f"worker host cut: {len(killed)} processes SIGKILLed on worker-1 with {done_at_kill} of "
        f"{TRACKLISTS} done; {retaken} requests taken a second time, the rest done {took:.1f} s "
        "later; finished by host "
        + ", ".join(f"{host} {n}" for host, n in sorted(finishers.items()))
        + f"; {stored} tracklists, 1 version and at most 1 event of each type each"
    )


def _one_budget(cluster: Cluster, report: Callable[[str], None]) -> None:
    for number in (2, 3):
        cluster.host(f"worker-{number}").stop_all()
    records = [r for r in _site_requests(cluster) if r["path"] != "/robots.txt"]
    records.sort(key=lambda r: r["time"])
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(records)]
    clients = Counter(r["client"] for r in records)
    assert len(clients) == 3, clients  # three worker hosts really fetched
    assert min(gaps) >= CRAWL_DELAY - TOLERANCE, sorted(gaps)[:5]
    report(
        f"one budget: {len(records)} page requests from {len(clients)} worker hosts; gaps at "
        f"the site min {min(gaps):.3f} s, median {sorted(gaps)[len(gaps) // 2]:.3f} s "
        f"(Crawl-delay {CRAWL_DELAY} s)"
    )


def _token(api: str, name: str) -> dict[str, str]:
    answer = requests.post(
        f"{api}/auth/token", json={"username": name, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _replicas_share_state(cluster: Cluster, report: Callable[[str], None]) -> None:
    one, two = cluster.api("api-1"), cluster.api("api-2")
    with Session(cluster.engine) as session:
        for name in ("cue-maker", "leaver", "limited"):
            create_user(session, name, PASSWORD)
        session.commit()
        tracklist_id = session.scalars(select(Tracklist.id).limit(1)).one()
    # A CUE file made through one replica downloads from the other, byte for byte.
    token = _token(one, "cue-maker")["access_token"]
    made = requests.post(
        f"{one}/cue/generate", json={"tracklist_id": str(tracklist_id)},
        headers=_bearer(token), timeout=10,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    cue_id = made.json()["id"]
    here = requests.get(f"{one}/cue/{cue_id}?download=1", timeout=10)
    there = requests.get(f"{two}/cue/{cue_id}?download=1", timeout=10)
    assert there.status_code == 200, there.text
    assert there.content == here.content == made.json()["cue_content"].encode()
    # A logout on one replica is honoured by the other, for access and refresh tokens.
    tokens = _token(one, "leaver")
    assert requests.get(f"{two}/auth/whoami", headers=_bearer(tokens["access_token"]),
                        timeout=10).status_code == 200  # fmt: skip
    out = requests.post(f"{one}/auth/logout", headers=_bearer(tokens["access_token"]), timeout=10)
    assert out.status_code in (200, 204), out.text
    assert requests.get(f"{two}/auth/whoami", headers=_bearer(tokens["access_token"]),
                        timeout=10).status_code == 401  # fmt: skip
    assert requests.post(f"{two}/auth/refresh", headers=_bearer(tokens["refresh_token"]),
                         timeout=10).status_code == 401  # fmt: skip
    # One user's rate limit is one allowance, whichever replica counts it.
    token = _token(two, "limited")["access_token"]
    answers = Counter(
        requests.get(f"{api}/auth/whoami", headers=_bearer(token), timeout=10).status_code
        for api in itertools.islice(itertools.cycle((one, two)), 2 * USER_LIMIT)
    )
    assert answers == Counter({200: USER_LIMIT, 429: USER_LIMIT}), answers
    report(
        f"replicas: CUE file made on api-1 downloaded from api-2 ({len(there.content)} bytes, "
        f"identical); logout on api-1 refused on api-2; {2 * USER_LIMIT} requests of one user "
        f"across both: {answers[200]} served, {answers[429]} refused (limit {USER_LIMIT})"
    )


SEARCH = "/search/?query=bicep"


def _search_totals(cluster: Cluster) -> list[int]:
    totals = []
    for name in ("api-1", "api-2"):
        answer = requests.get(f"{cluster.api(name)}{SEARCH}", timeout=10)
        assert answer.status_code == 200, answer.text
        totals.append(int(answer.json()["total"]))
    return totals


def _one_api_host_down(cluster: Cluster, report: Callable[[str], None]) -> None:
    """Load through nginx; api-1's host dies; nothing fails beyond what was in flight."""
    lb = f"http://{cluster.host('lb').address}/api/v1"
    with Session(cluster.engine) as session:
        paths = [f"/tracklist/{i}" for i in session.scalars(select(Tracklist.id))] + [SEARCH]
    results: list[tuple[float, int]] = []
    stop = threading.Event()
    clients = 4

    def client(offset: int) -> None:
        with requests.Session() as http:
            for path in itertools.islice(itertools.cycle(paths), offset, None):
                if stop.is_set():
                    return
                try:
                    status = http.get(f"{lb}{path}", timeout=10).status_code
                except requests.RequestException:
                    status = 0
                results.append((time.monotonic(), status))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        cut_at = time.monotonic()
        cluster.host("api-1").kill_all()
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    before = [status for at, status in results if at < cut_at]
    after = [status for at, status in results if at >= cut_at]
    failed = [status for status in after if status != 200]
    assert before, "no request before the cut"
    assert after, "no request after the cut"
    assert all(status == 200 for status in before)
    assert len(failed) <= clients, Counter(failed)  # at most the requests in flight at the cut
    assert all(status == 200 for at, status in results if at >= cut_at + 1), "not recovered"
    report(
        f"api-1 killed under load through nginx: {len(before)} requests before, {len(after)} "
        f"after, {len(failed)} failed {dict(Counter(failed))} ({clients} clients, so at most "
        f"{clients} in flight at the cut)"
    )


def test_the_service_on_several_hosts(
    cluster: Cluster, report_figure: Callable[[str], None]
) -> None:
    assert _search_totals(cluster) == [0, 0]  # both replicas cache the empty answer
    _crawl_with_a_worker_host_killed(cluster, report_figure)
    finished = time.monotonic()
    expected = sum("bicep" in url for url in cluster.urls)
    _wait(
        lambda: _search_totals(cluster) == [expected, expected], 10, lambda: "both serve the crawl"
    )
    served_after = time.monotonic() - finished
    report_figure(
        f"the crawl's {expected} 'bicep' sets served by both replicas {served_after:.2f} s "
        "after the last request was done"
    )
    assert served_after <= 2.0  # the cache-stamp time (1 s) plus polling
    _one_budget(cluster, report_figure)
    _replicas_share_state(cluster, report_figure)
    _one_api_host_down(cluster, report_figure)

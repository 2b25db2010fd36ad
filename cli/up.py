"""``tracklists up``: the whole service as one supervised group, with one command.

Applies migrations, then runs the API (``tracklists serve``), a crawl worker (``scrapy crawl
worker``), the outbox relay (``tracklists relay``) and the RabbitMQ consumers (``tracklists
consume search|retrieval|files``) as child processes whose output goes to the console. A child
that dies is restarted with a growing delay; Ctrl-C or SIGTERM stops them all gracefully (the
worker finishes what it is fetching and hands back what it held; a consumer finishes the
message in hand).

With nothing configured it runs on the embedded SQLite database; a component whose service is
unreachable at start (Redis for the worker and the retrieval consumer, RabbitMQ for the relay
and the consumers) is reported disabled, not started, and the API's ``/admin/health`` shows
the same. With RabbitMQ up it declares the topology first, as ``tracklists mq setup`` does.
Before starting anything it says what it uses, passwords hidden: the database, Redis,
RabbitMQ, the API's address a browser can open, and what is disabled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import click
import pika
import pika.exceptions
import redis

from cli.common import settings_or_exit
from cli.mq import declare_topology
from config.settings import Settings
from crawler.localsite import LocalSite, robots_txt
from crawler.localsite.demo import demo_store
from messaging.consumers import KINDS
from messaging.topology import policy_advice
from store import migrate
from store.db import make_engine

GRACE_SECONDS = 30.0
MAX_RESTART_DELAY = 30.0


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    restart: bool = True  # False: runs once (the demo's crawl)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        # Own session: a terminal's Ctrl-C reaches only `up`, which then sends ONE SIGTERM (a
        # second signal would make Scrapy stop at once instead of finishing its requests).
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)  # noqa: S603
        self.started_at = time.monotonic()
        click.echo(f"[up] started {self.name} (pid {self.process.pid})", err=True)


def hide_password(url: str) -> str:
    """``url`` with the password of its user part, if any, shown as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def browser_url(settings: Settings) -> str:
    """The API's base URL as a browser on this machine can open it (not ``0.0.0.0``)."""
    host = settings.api_host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - reading the setting, not binding
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}{settings.api_prefix}"


def redis_reachable(url: str) -> str | None:
    """None when Redis answers PING, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return str(exc)
    finally:
        client.close()


def rabbitmq_reachable(url: str) -> str | None:
    """None when RabbitMQ accepts a connection, else why not."""
    parameters = pika.URLParameters(url)
    parameters.socket_timeout = 2
    parameters.connection_attempts = 1
    try:
        pika.BlockingConnection(parameters).close()
        return None
    except pika.exceptions.AMQPError as exc:
        return repr(exc)


def plan_children(settings: Settings) -> tuple[list[Child], list[str]]:
    """The processes to run, and the components left out with the reason."""
    python = sys.executable
    children = [Child("api", [python, "-m", "cli", "serve"])]
    disabled = []
    redis_problem = redis_reachable(settings.effective_redis_url)
    if redis_problem is None:
        children.append(Child("worker", [python, "-m", "scrapy", "crawl", "worker"]))
    else:
        where = hide_password(settings.effective_redis_url)
        disabled.append(f"crawl worker: Redis unreachable at {where} ({redis_problem})")
    mq_problem = rabbitmq_reachable(settings.mq_rabbitmq_url)
    if mq_problem is None:
        children.append(Child("relay", [python, "-m", "cli", "relay"]))
        for kind in KINDS:
            if kind == "retrieval" and redis_problem is not None:
                # It queues crawls in Redis: without it every request would end dead-lettered.
                disabled.append(
                    "retrieval consumer: Redis unreachable; retrieval requests wait in RabbitMQ"
                )
                continue
            children.append(Child(f"consumer-{kind}", [python, "-m", "cli", "consume", kind]))
    else:
        disabled.append(
            f"outbox relay: RabbitMQ unreachable ({mq_problem}); events wait in the outbox"
        )
        disabled.append(f"message-queue consumers ({', '.join(KINDS)}): RabbitMQ unreachable")
    return children, disabled


def declare_mq_topology(settings: Settings) -> None:
    """Declare the RabbitMQ topology as ``tracklists mq setup`` does, and say how it went."""
    try:
        topology, alternate = declare_topology(settings)
    except click.ClickException as exc:
        # The consumers retry their own declarations and log why they fail.
        click.echo(f"[up] RabbitMQ topology not declared: {exc.message}", err=True)
        return
    click.echo(f"[up] RabbitMQ exchange {topology.exchange} and its queues declared", err=True)
    if alternate:
        click.echo(
            f"[up] events no queue is bound for wait in queue {topology.unrouted_queue}",
            err=True,
        )
    else:
        click.echo(f"[up] warning: {policy_advice(topology.exchange)}", err=True)


def supervise(children: list[Child], env: dict[str, str], stop: list[int]) -> None:
    """Keep every child running until a stop signal arrives, then stop them all."""
    for child in children:
        child.start(env)
    while not stop:
        now = time.monotonic()
        for child in children:
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                if not child.restart:
                    click.echo(f"[up] {child.name} finished (exit {code})", err=True)
                    child.process, child.next_start = None, float("inf")
                    continue
                # A child that ran a while before dying gets a fresh delay; a crash loop backs off.
                if now - child.started_at > 60:
                    child.restarts = 0
                delay = min(MAX_RESTART_DELAY, 2.0**child.restarts)
                child.restarts += 1
                child.next_start = now + delay
                child.process = None
                click.echo(
                    f"[up] {child.name} exited with {code}; restarting in {delay:.0f}s", err=True
                )
            if child.process is None and now >= child.next_start:
                child.start(env)
        time.sleep(0.2)
    shut_down(children)


def shut_down(children: list[Child]) -> None:
    """SIGTERM every child, wait up to GRACE_SECONDS, then SIGKILL what is left."""
    running = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in running:
        assert child.process is not None
        click.echo(f"[up] stopping {child.name}", err=True)
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in running:
        assert child.process is not None
        try:
            code = child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(
                f"[up] {child.name} did not stop in {GRACE_SECONDS:.0f}s; killing it", err=True
            )
            child.process.kill()
            child.process.wait()
        else:
            click.echo(f"[up] {child.name} stopped (exit {code})", err=True)


@click.command()
@click.option(
    "--demo",
    is_flag=True,
    help="Crawl a local replay of the site with sample sets (no internet needed).",
)
def up(demo: bool) -> None:
    """Run the service: migrations, API, crawl worker, outbox relay, MQ consumers; Ctrl-C stops."""
    settings = settings_or_exit()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if settings.uses_embedded_database:
        click.echo(
            f"[up] no database configured: using the embedded SQLite file ({where})", err=True
        )
    else:
        click.echo(f"[up] database {where} migrated", err=True)
    children, disabled = plan_children(settings)
    click.echo(f"[up] Redis {hide_password(settings.effective_redis_url)}", err=True)
    click.echo(f"[up] RabbitMQ {hide_password(settings.mq_rabbitmq_url)}", err=True)
    if any(child.name == "relay" for child in children):
        declare_mq_topology(settings)
    if not settings.api_docs_enabled:
        disabled.append("API docs page (TRACKLIST_API_DOCS_ENABLED=false)")
    for reason in disabled:
        click.echo(f"[up] disabled: {reason}", err=True)

    stop: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    env = dict(os.environ)
    api = browser_url(settings)
    site = None
    if demo:
        # The demo site is ours: a 1 s Crawl-delay keeps it quick and still shows politeness.
        site = LocalSite(demo_store(), robots_txt=robots_txt(crawl_delay=1)).start()
        env["TRACKLIST_SCRAPING_BASE_URL"] = site.base_url
        # It is also the demo site's only client: nothing to share a budget with, and no Redis
        # needed (a shared budget that Redis cannot serve pauses the crawl).
        crawl = [sys.executable, "-m", "scrapy", "crawl", "latest"]
        crawl += ["-s", "TRACKLIST_SHARED_BUDGET_ENABLED=False"]
        children.append(Child("demo crawl", crawl, restart=False))
        click.echo(f"[up] demo: replaying sample sets from {site.base_url}", err=True)
        click.echo(f"[up] demo: then try  curl '{api}/search/?query=nova'", err=True)
    docs = f", docs {api}/docs" if settings.api_docs_enabled else ""
    click.echo(f"[up] API on {api}{docs} (Ctrl-C to stop)", err=True)
    try:
        supervise(children, env, stop)
    finally:
        if site is not None:
            site.stop()
    click.echo("[up] stopped", err=True)

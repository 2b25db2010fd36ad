"""``tracklists crawl``: queue on-demand crawls for the workers, and follow them."""

from __future__ import annotations

import uuid

import click
import redis
from sqlalchemy import select

from cli.common import settings_or_exit
from domain.site import UrlRejected, canonical_public_url
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory
from store.models import CrawlRequest


@click.group()
def crawl() -> None:
    """On-demand crawls through the Redis queue (run `scrapy crawl worker` to process them)."""


@crawl.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--force-refresh", is_flag=True, help="Fetch even if stored recently.")
def request(urls: tuple[str, ...], force_refresh: bool) -> None:
    """Queue URLS; prints one correlation id per URL (refused URLs say why, exit 1)."""
    settings = settings_or_exit()
    canonical: list[str] = []
    for url in urls:
        try:
            canonical.append(canonical_public_url(url))
        except UrlRejected as exc:
            raise click.ClickException(f"refused {url!r}: {exc}") from None
    engine = make_engine(settings.sqlalchemy_url)
    client = redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2)
    try:
        queue = CrawlQueue(client, make_session_factory(engine))
        for url in canonical:
            submitted = queue.submit(url, force_refresh=force_refresh, requested_by="cli")
            click.echo(f"{submitted.correlation_id}\t{url}")
    finally:
        client.close()
        engine.dispose()


@crawl.command()
@click.argument("correlation_id")
def status(correlation_id: str) -> None:
    """Show a request's state (queued, running, done, failed, blocked)."""
    try:
        wanted = uuid.UUID(correlation_id)
    except ValueError:
        raise click.ClickException(f"not a correlation id: {correlation_id!r}") from None
    settings = settings_or_exit()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            found = session.scalars(
                select(CrawlRequest).where(CrawlRequest.correlation_id == wanted)
            ).one_or_none()
    finally:
        engine.dispose()
    if found is None:
        raise click.ClickException(f"no crawl request {correlation_id}")
    line = f"{found.status}\t{found.url}\tattempts={found.attempts}"
    if found.tracklist_id:
        line += f"\ttracklist={found.tracklist_id}"
    if found.error:
        line += f"\terror={found.error}"
    click.echo(line)

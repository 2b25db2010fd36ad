"""``tracklists health``: exit 0 when a local process is alive (for container health checks)."""

from __future__ import annotations

import socket

import click
import redis

from cli.common import settings_or_exit
from cli.relay import relay_heartbeat_file
from store import heartbeats

# A relay round takes at most its idle wait or outage backoff (30 s); allow three of them.
RELAY_STALE_AFTER = 90.0


@click.command()
@click.option("--component", type=click.Choice(["worker", "relay"]), required=True)
def health(component: str) -> None:
    """Check that this machine's crawl worker or outbox relay is alive."""
    settings = settings_or_exit()
    if component == "relay":
        age = heartbeats.age_seconds(relay_heartbeat_file(settings.data_dir))
        if age is None or age > RELAY_STALE_AFTER:
            raise click.ClickException(
                f"relay not alive (last heartbeat: {age and round(age)}s ago)"
            )
        click.echo(f"relay alive ({age:.0f}s since last round)")
        return
    client = redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2)
    try:
        alive = heartbeats.live_workers(
            client, settings.worker_heartbeat_key_prefix, host=socket.gethostname()
        )
    except redis.RedisError as exc:
        raise click.ClickException(f"cannot reach Redis: {exc}") from None
    finally:
        client.close()
    if not alive:
        raise click.ClickException(f"no live crawl worker on {socket.gethostname()}")
    click.echo(f"{len(alive)} crawl worker(s) alive")

"""``tracklists relay``: publish outbox events to RabbitMQ until stopped."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click
import pika.exceptions

from cli.common import settings_or_exit
from config import logs
from messaging.relay import OutboxRelay, drain
from store import heartbeats
from store.db import make_engine, make_session_factory


def relay_heartbeat_file(data_dir: Path) -> Path:
    """Where ``tracklists relay`` marks that its loop is alive."""
    return data_dir / "relay.heartbeat"


@click.command()
@click.option("--once", is_flag=True, help="Publish what is due, then exit (for cron or tests).")
@click.option("--timeout", default=60.0, show_default=True, help="With --once: give up after.")
def relay(once: bool, timeout: float) -> None:
    """Publish committed outbox events to the exchange, with confirms; Ctrl-C stops cleanly."""
    settings = settings_or_exit()
    logs.configure("relay", settings.log_level, settings.log_format)
    engine = make_engine(settings.sqlalchemy_url, pool_size=2)
    publisher = OutboxRelay(
        make_session_factory(engine), settings.mq_rabbitmq_url, settings.mq_exchange_name
    )
    try:
        if once:
            try:
                published = drain(publisher, timeout)
            except pika.exceptions.AMQPError as exc:
                raise click.ClickException(f"broker unavailable: {exc!r}") from None
            click.echo(f"published {published} event(s)")
            return
        stop = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        beat_file = relay_heartbeat_file(settings.data_dir)
        publisher.run_forever(stop, heartbeat=lambda: heartbeats.touch(beat_file))
    finally:
        publisher.close()
        engine.dispose()

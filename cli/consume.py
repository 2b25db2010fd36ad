"""``tracklists consume search|retrieval|files``: run one RabbitMQ consumer until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from cli.common import settings_or_exit
from pipelines.consumers import KINDS, build
from store import heartbeats, migrate
from store.db import make_engine, make_session_factory


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
def consume(kind: str) -> None:
    """Consume KIND's queue: search requests, tracklist retrieval requests or file events.

    Each message is applied once and acknowledged after its effect is committed; failures are
    retried TRACKLIST_MQ_MAX_RETRIES times with backoff, then dead-lettered. Ctrl-C or
    SIGTERM stops after the message in hand.
    """
    settings = settings_or_exit()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    engine = make_engine(settings.sqlalchemy_url, pool_size=2)
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
        if current != head:
            raise click.ClickException(
                f"database at revision {current}, code expects {head}: run `tracklists db upgrade`"
            )
        consumer = build(kind, settings, make_session_factory(engine))
        stop = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        beat_file = settings.data_dir / f"consumer-{kind}.heartbeat"
        consumer.run_forever(stop, heartbeat=lambda: heartbeats.touch(beat_file))
    finally:
        engine.dispose()

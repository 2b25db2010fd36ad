"""``tracklists consume search|retrieval|files``: run one RabbitMQ consumer until stopped.

Logs are JSON lines (``TRACKLIST_LOG_FORMAT``) from component ``consumer-<kind>``, each line
about a message carrying its correlation and message ids. Prometheus metrics
(:mod:`messaging.consumers.metrics`) are served on ``TRACKLIST_CONSUMER_METRICS_HOST`` while
it runs, on port :func:`metrics_port`.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from cli.common import settings_or_exit
from config import logs
from messaging.consumers import KINDS, build
from store import heartbeats, migrate
from store.db import make_engine, make_session_factory


def metrics_port(base: int, kind: str) -> int | None:
    """The port ``kind``'s consumer serves metrics on: ``None`` when off (-1), 0 = any free one.

    One base port (``TRACKLIST_CONSUMER_METRICS_PORT``), offset by the kind's place in
    :data:`~messaging.consumers.KINDS` (search +0, retrieval +1, files +2), so the three
    consumers ``tracklists up`` runs on one host do not compete for it.
    """
    if base < 0:
        return None
    return 0 if base == 0 else base + KINDS.index(kind)


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
def consume(kind: str) -> None:
    """Consume KIND's queue: search requests, tracklist retrieval requests or file events.

    Each message is applied once and acknowledged after its effect is committed; failures are
    retried TRACKLIST_MQ_MAX_RETRIES times with backoff, then dead-lettered. Ctrl-C or
    SIGTERM stops after the message in hand.
    """
    settings = settings_or_exit()
    logs.configure(f"consumer-{kind}", settings.log_level, settings.log_format)
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
        port = metrics_port(settings.consumer_metrics_port, kind)
        if settings.metrics_enabled and port is not None:
            consumer.metrics.serve(settings.consumer_metrics_host, port)
        beat_file = settings.data_dir / f"consumer-{kind}.heartbeat"
        try:
            consumer.run_forever(stop, heartbeat=lambda: heartbeats.touch(beat_file))
        finally:
            consumer.metrics.close()
    finally:
        engine.dispose()

"""``tracklists mq setup``: declare the exchanges, queues and bindings the consumers use."""

from __future__ import annotations

import click
import pika
import pika.exceptions

from cli.common import settings_or_exit
from messaging.consumers import Topology


@click.group()
def mq() -> None:
    """RabbitMQ administration."""


@mq.command()
def setup() -> None:
    """Declare (idempotently) the exchange, each consumer's queue, retry queues and DLX."""
    settings = settings_or_exit()
    topology = Topology.from_settings(settings)
    try:
        connection = pika.BlockingConnection(pika.URLParameters(settings.mq_rabbitmq_url))
    except pika.exceptions.AMQPError as exc:
        raise click.ClickException(f"broker unavailable: {exc!r}") from None
    try:
        topology.declare_all(connection.channel())
    except pika.exceptions.ChannelClosedByBroker as exc:
        # Typically a queue that exists with other arguments (e.g. a classic queue).
        raise click.ClickException(f"the broker refused a declaration: {exc}") from None
    finally:
        if connection.is_open:
            connection.close()
    click.echo(
        f"exchange {topology.exchange} (topic), dead letters {topology.dead_letter_exchange}"
    )
    for kind, spec in topology.queues.items():
        keys = ", ".join(spec.routing_keys)
        dead = topology.dead_queue(spec.name)
        click.echo(f"{kind}: {spec.name} <- {keys}; {topology.max_retries} retries, then {dead}")

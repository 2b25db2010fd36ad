"""``tracklists mq setup|replay-unrouted``: declare the topology; replay unrouted events."""

from __future__ import annotations

import click
import pika
import pika.exceptions

from cli.common import settings_or_exit
from config.settings import Settings
from messaging.consumers import Topology
from messaging.replay import ReplayStopped, replay_unrouted
from messaging.topology import policy_advice


def _connect(settings: Settings) -> pika.BlockingConnection:
    try:
        return pika.BlockingConnection(pika.URLParameters(settings.mq_rabbitmq_url))
    except pika.exceptions.AMQPError as exc:
        raise click.ClickException(f"broker unavailable: {exc!r}") from None


def declare_topology(settings: Settings) -> tuple[Topology, bool]:
    """Declare every exchange, queue and binding; the topology, and whether the exchange
    has its alternate exchange for unrouted events. Raises ``ClickException`` with the reason.
    """
    topology = Topology.from_settings(settings)
    connection = _connect(settings)
    try:
        alternate = topology.declare_all(connection.channel())
    except pika.exceptions.ChannelClosedByBroker as exc:
        # Typically a queue that exists with other arguments (e.g. a classic queue).
        raise click.ClickException(f"the broker refused a declaration: {exc}") from None
    except pika.exceptions.AMQPError as exc:
        raise click.ClickException(f"broker unavailable: {exc!r}") from None
    finally:
        if connection.is_open:
            connection.close()
    return topology, alternate


@click.group()
def mq() -> None:
    """RabbitMQ administration."""


@mq.command()
def setup() -> None:
    """Declare (idempotently) the exchange, each consumer's queue, retry queues and DLX."""
    topology, alternate = declare_topology(settings_or_exit())
    click.echo(
        f"exchange {topology.exchange} (topic), dead letters {topology.dead_letter_exchange}"
    )
    if alternate:
        click.echo(f"unrouted events: {topology.unrouted_queue} (replay-unrouted moves them back)")
    else:
        click.echo(f"warning: {policy_advice(topology.exchange)}", err=True)
    for kind, spec in topology.queues.items():
        keys = ", ".join(spec.routing_keys)
        dead = topology.dead_queue(spec.name)
        click.echo(f"{kind}: {spec.name} <- {keys}; {topology.max_retries} retries, then {dead}")


@mq.command("replay-unrouted")
@click.option("--limit", type=click.IntRange(min=1), help="Move at most this many events.")
def replay_unrouted_command(limit: int | None) -> None:
    """Publish the events waiting in the unrouted queue to the exchange again.

    Run it once a queue is bound for their routing keys; events whose key still reaches no
    queue go back to the unrouted queue, and the command says which keys those are.
    """
    settings = settings_or_exit()
    connection = _connect(settings)
    try:
        replayed = replay_unrouted(connection, settings.mq_exchange_name, limit)
    except ReplayStopped as exc:
        raise click.ClickException(str(exc)) from None
    except pika.exceptions.ChannelClosedByBroker as exc:
        # The unrouted queue does not exist: nothing declared it on this broker yet.
        raise click.ClickException(
            f"no unrouted queue ({exc}); `tracklists mq setup` declares it"
        ) from None
    finally:
        if connection.is_open:
            connection.close()
    click.echo(
        f"replayed {sum(replayed.moved.values())} event(s) to {settings.mq_exchange_name}: "
        f"{replayed.delivered} delivered, {replayed.returned} still unrouted"
    )
    for key in sorted(replayed.still_unrouted):
        click.echo(f"no queue is bound for {key}: its events are back in the unrouted queue")

"""``tracklists mq replay-unrouted``: move events from the unrouted queue back to the exchange.

Events no queue was bound for wait in ``<exchange>.unrouted`` (:mod:`messaging.topology`).
Once a queue is bound for their routing key, :func:`replay_unrouted` publishes each of them
again to the exchange, with its own routing key and properties (its ``message_id`` kept, so
consumers still de-duplicate), and acknowledges it in the unrouted queue only after the broker
confirmed the new copy: a crash in between sends it twice, never loses it.

Only the messages waiting when it starts are taken (at most ``limit``): one still unrouted
goes back to the end of the same queue, and would otherwise be taken again forever. The first
message of each routing key is checked against the queue's depth, so the result says which
keys still reach no queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from messaging.topology import unrouted_name


class ReplayStopped(Exception):
    """The exchange refused a replayed event; it was left in the unrouted queue."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay did: events moved, per routing key, and the keys still unrouted."""

    moved: Counter[str]
    still_unrouted: frozenset[str]

    @property
    def delivered(self) -> int:
        """Events now in a queue other than the unrouted one."""
        return sum(n for key, n in self.moved.items() if key not in self.still_unrouted)

    @property
    def returned(self) -> int:
        """Events that went back to the unrouted queue (their key still reaches no queue)."""
        return sum(self.moved[key] for key in self.still_unrouted)


def _depth(channel: BlockingChannel, queue: str) -> int:
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def replay_unrouted(
    connection: BlockingConnection, exchange: str, limit: int | None = None
) -> Replayed:
    """Publish the events waiting in ``exchange``'s unrouted queue to ``exchange`` again.

    Raises ``ChannelClosedByBroker`` when the unrouted queue does not exist, and
    :class:`ReplayStopped` when the exchange returns or refuses an event (it has no alternate
    exchange any more, or the broker nacked it): that event stays where it was.
    """
    queue = unrouted_name(exchange)
    channel = connection.channel()
    channel.confirm_delivery()
    waiting = _depth(channel, queue)
    todo = waiting if limit is None else min(limit, waiting)
    moved: Counter[str] = Counter()
    unrouted: set[str] = set()
    for _ in range(todo):
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:  # taken by someone else meanwhile
            break
        key = method.routing_key
        probe = key not in moved
        # The message in hand is unacked, so not counted: the depth grows only if it comes back.
        before = _depth(channel, queue) if probe else 0
        try:
            channel.basic_publish(exchange, key, body, properties, mandatory=True)
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            channel.basic_nack(method.delivery_tag, requeue=True)
            raise ReplayStopped(
                f"exchange {exchange} did not take an event with routing key {key} "
                f"({type(exc).__name__}); it stays in {queue}"
            ) from None
        if probe and _depth(channel, queue) > before:
            unrouted.add(key)
        channel.basic_ack(method.delivery_tag)
        moved[key] += 1
    channel.close()
    return Replayed(moved, frozenset(unrouted))

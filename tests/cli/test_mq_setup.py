"""``tracklists mq setup`` and ``mq replay-unrouted`` against the real RabbitMQ: what setup
declares, twice, and its refusals; unrouted events replayed once a queue is bound."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pika
import pytest
from click.testing import CliRunner
from support.service import free_port

from cli.main import main
from config.settings import Settings
from messaging.topology import FILES_ROUTING_KEY, RETRIEVAL_ROUTING_KEY, unrouted_name


@pytest.fixture
def names(rabbitmq_url: str) -> Iterator[dict[str, str]]:
    """Unique exchange and queue names, as TRACKLIST_MQ_* settings; deleted afterwards."""
    token = uuid.uuid4().hex[:10]
    env = {
        "TRACKLIST_MQ_RABBITMQ_URL": rabbitmq_url,
        "TRACKLIST_MQ_EXCHANGE_NAME": f"test_setup_{token}",
        "TRACKLIST_MQ_SEARCH_QUEUE": f"t_{token}_search",
        "TRACKLIST_MQ_RETRIEVAL_QUEUE": f"t_{token}_retrieval",
        "TRACKLIST_MQ_FILES_QUEUE": f"t_{token}_files",
        "TRACKLIST_MQ_MAX_RETRIES": "2",
    }
    yield env
    from messaging.consumers import Topology

    settings = Settings(
        mq_rabbitmq_url=rabbitmq_url,
        mq_exchange_name=env["TRACKLIST_MQ_EXCHANGE_NAME"],
        mq_search_queue=env["TRACKLIST_MQ_SEARCH_QUEUE"],
        mq_retrieval_queue=env["TRACKLIST_MQ_RETRIEVAL_QUEUE"],
        mq_files_queue=env["TRACKLIST_MQ_FILES_QUEUE"],
        mq_max_retries=2,
    )
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        Topology.from_settings(settings).delete_all(connection.channel())
    finally:
        connection.close()


def _setup(env: dict[str, str], command: tuple[str, ...] = ("mq", "setup")) -> tuple[int, str]:
    clean = {key: None for key in os.environ if key.startswith("TRACKLIST_")}
    result = CliRunner().invoke(main, list(command), env={**clean, **env})
    return result.exit_code, result.output


def test_setup_declares_everything_and_can_run_again(
    names: dict[str, str], rabbitmq_url: str
) -> None:
    for _ in range(2):  # idempotent: a second run changes nothing and succeeds
        code, output = _setup(names)
        assert code == 0, output
    assert f"{names['TRACKLIST_MQ_SEARCH_QUEUE']} <- tracklist.search; 2 retries" in output
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        routed = {
            "tracklist.search": names["TRACKLIST_MQ_SEARCH_QUEUE"],
            RETRIEVAL_ROUTING_KEY: names["TRACKLIST_MQ_RETRIEVAL_QUEUE"],
            FILES_ROUTING_KEY: names["TRACKLIST_MQ_FILES_QUEUE"],
        }
        for routing_key, queue in routed.items():
            # mandatory: an unbound key would come back as unroutable and raise here.
            channel.basic_publish(
                names["TRACKLIST_MQ_EXCHANGE_NAME"], routing_key, b"{}", mandatory=True
            )
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            assert (method is not None, body) == (True, b"{}"), queue
            # Its retry queues and dead-letter queue exist too (passive: fails if absent).
            for suffix in (".retry.1", ".retry.2", ".dead"):
                channel.queue_declare(f"{queue}{suffix}", passive=True)
        # A key no queue is bound for is not returned (mandatory would raise): it waits in the
        # unrouted queue.
        exchange = names["TRACKLIST_MQ_EXCHANGE_NAME"]
        channel.basic_publish(exchange, "nobody.listens", b"lost?", mandatory=True)
        method, _properties, body = channel.basic_get(unrouted_name(exchange), auto_ack=True)
        assert method is not None
        assert (method.routing_key, body) == ("nobody.listens", b"lost?")
    finally:
        connection.close()
    assert f"unrouted events: {unrouted_name(exchange)}" in output


def test_setup_on_an_exchange_declared_without_the_alternate_exchange_explains_the_fix(
    names: dict[str, str], rabbitmq_url: str
) -> None:
    exchange = names["TRACKLIST_MQ_EXCHANGE_NAME"]
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        connection.channel().exchange_declare(exchange, exchange_type="topic", durable=True)
        code, output = _setup(names)
        # The exchange is kept (other services may be bound to it); everything else declared.
        assert code == 0, output
        assert f"exchange {exchange} exists without the alternate-exchange argument" in output
        assert f"rabbitmqctl set_policy {exchange}-unrouted '^{exchange}$'" in output
        assert f"{names['TRACKLIST_MQ_FILES_QUEUE']} <- file.changed" in output
        channel = connection.channel()
        channel.queue_declare(names["TRACKLIST_MQ_SEARCH_QUEUE"], passive=True)
        channel.queue_declare(unrouted_name(exchange), passive=True)
    finally:
        connection.close()


def test_replay_unrouted_moves_events_back_once_a_queue_is_bound(
    names: dict[str, str], rabbitmq_url: str
) -> None:
    code, output = _setup(names)
    assert code == 0, output
    exchange = names["TRACKLIST_MQ_EXCHANGE_NAME"]
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.confirm_delivery()
    for n in range(3):
        channel.basic_publish(exchange, "tracklist.processed", b"%d" % n, mandatory=True)
    channel.basic_publish(exchange, "tracklist.cataloged", b"c", mandatory=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="tracklist.processed")
    try:
        code, output = _setup(names, ("mq", "replay-unrouted", "--limit", "2"))
        assert code == 0, output
        assert f"replayed 2 event(s) to {exchange}: 2 delivered, 0 still unrouted" in output
        code, output = _setup(names, ("mq", "replay-unrouted"))
        assert code == 0, output
        assert "replayed 2 event(s)" in output
        assert "1 delivered, 1 still unrouted" in output
        assert "no queue is bound for tracklist.cataloged" in output
        bodies = []
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(got[2])
        assert bodies == [b"0", b"1", b"2"]
        unrouted = channel.queue_declare(unrouted_name(exchange), passive=True)
        assert unrouted.method.message_count == 1
    finally:
        connection.close()


def test_replay_unrouted_without_the_queue_says_to_run_setup(names: dict[str, str]) -> None:
    code, output = _setup(names, ("mq", "replay-unrouted"))
    assert code == 1
    assert "no unrouted queue" in output
    assert "tracklists mq setup" in output


def test_setup_says_what_the_broker_refused(names: dict[str, str], rabbitmq_url: str) -> None:
    # A classic queue already holds the search queue's name: quorum cannot be declared over it.
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        connection.channel().queue_declare(names["TRACKLIST_MQ_SEARCH_QUEUE"], durable=True)
    finally:
        connection.close()
    code, output = _setup(names)
    assert code == 1
    assert "the broker refused a declaration" in output
    assert "PRECONDITION_FAILED" in output


def test_setup_without_a_broker_fails_clearly(names: dict[str, str]) -> None:
    unreachable = {
        **names,
        "TRACKLIST_MQ_RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
    }
    code, output = _setup(unreachable)
    assert code == 1
    assert "broker unavailable" in output

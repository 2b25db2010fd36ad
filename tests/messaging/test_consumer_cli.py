"""``tracklists consume search`` as a process: consumes, replies, logs JSON lines with the
message's correlation id, serves its metrics while it runs, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from consumer_support import Broker, outbox, wait_until
from sqlalchemy import Engine
from support.service import free_port

from messaging.consumers import QueueSpec, Topology
from store.db import make_engine, make_session_factory
from store.migrate import upgrade

pytestmark = pytest.mark.programs


def test_consume_search_runs_until_sigterm(
    rabbitmq_url: str, postgres_url: str, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex[:10]
    topology = Topology(
        exchange=f"test_cli_{token}",
        queues={"search": QueueSpec(f"t_{token}_search", ("tracklist.search",))},
        max_retries=1,
        base_delay_seconds=0.1,
    )
    engine: Engine = make_engine(postgres_url)
    upgrade(engine)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")},
        "TRACKLIST_DATABASE_URL": postgres_url,
        "TRACKLIST_MQ_RABBITMQ_URL": rabbitmq_url,
        "TRACKLIST_MQ_EXCHANGE_NAME": topology.exchange,
        "TRACKLIST_MQ_SEARCH_QUEUE": topology.queues["search"].name,
        "TRACKLIST_MQ_MAX_RETRIES": "1",
        "TRACKLIST_MQ_BASE_DELAY_SECONDS": "0.1",
        "TRACKLIST_DATA_DIR": str(tmp_path),
        "TRACKLIST_CONSUMER_METRICS_PORT": str(metrics_port := free_port()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "consume", "search"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    broker = Broker(rabbitmq_url, topology)
    try:
        broker.publish("tracklist.search", {"query": "anything"}, correlation_id="cli-1")
        sessions = make_session_factory(engine)
        wait_until(lambda: len(outbox(sessions, "tracklist.search.result")) == 1, timeout=30)
        assert (tmp_path / "consumer-search.heartbeat").exists()
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            metrics = answer.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        broker.close()
        engine.dispose()
    assert process.returncode == 0, output
    assert 'tracklists_consumer_messages_total{consumer="search",outcome="answered"} 1.0' in metrics
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"time"')]
    assert {line["component"] for line in lines} == {"consumer-search"}
    [answered] = [line for line in lines if "answered" in line["message"]]
    assert answered["correlation_id"] == "cli-1"


def test_consume_refuses_an_unmigrated_database(rabbitmq_url: str, postgres_url: str) -> None:
    env = {
        **os.environ,
        "TRACKLIST_DATABASE_URL": postgres_url,
        "TRACKLIST_MQ_RABBITMQ_URL": rabbitmq_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "cli", "consume", "files"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "tracklists db upgrade" in result.stderr

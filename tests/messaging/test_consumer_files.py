"""The file-event consumer against the real RabbitMQ and PostgreSQL: CUE files validated with
:mod:`cue`, our stale CUE files generated again, each event applied once."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from pathlib import Path

import pika
import pytest
from consumer_support import (
    Broker,
    Running,
    dead_letters,
    entry,
    outbox,
    store_page,
    tracklist_page,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import cue
from config.settings import Settings
from messaging.consumers import Consumer, Message, build
from store.models import CueFile

VALID = cue.export(
    cue.Tracklist("Set", (cue.Entry(1, "A", "B", cue_ms=0), cue.Entry(2, "C", "D", cue_ms=60_000))),
    "standard",
).documents[0]
BROKEN = 'TRACK 01 AUDIO\n  INDEX 01 00:00:00\nFILE "x.wav" WAVE\n'


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "cue"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def consumer(
    broker: Broker, sessions: sessionmaker[Session], rabbitmq_url: str, storage: Path, media: Path
) -> Consumer:
    settings = Settings(mq_rabbitmq_url=rabbitmq_url, storage_dir=storage, media_root=media)
    return build("files", settings, sessions, broker.topology)


def _event(path: Path | str, change_type: str = "modified") -> dict[str, str]:
    return {"file_path": str(path), "file_type": "cue", "change_type": change_type}


def test_changed_files_are_validated_and_the_result_published(
    broker: Broker, consumer: Consumer, sessions: sessionmaker[Session], media: Path
) -> None:
    good, bad = media / "good.cue", media / "bad.cue"
    good.write_text(VALID)
    bad.write_text(BROKEN)
    broker.publish("file.changed", _event(good), correlation_id="w-1")
    broker.publish("file.changed", _event("bad.cue"))  # relative to the media root
    broker.publish("file.changed", _event(media / "gone.cue", "deleted"))
    broker.publish("file.changed", {**_event(media / "a.mp3"), "file_type": "audio"})
    with Running(consumer) as running:
        outcomes = running.wait_for(4)
    assert outcomes == {"valid": 1, "invalid": 1, "missing": 1, "ignored": 1}
    results = {Path(e.payload["file_path"]).name: e for e in outbox(sessions, "cue.validated")}
    assert set(results) == {"good.cue", "bad.cue", "gone.cue"}
    assert results["good.cue"].payload["status"] == "valid"
    assert results["good.cue"].payload["tracks"] == 2
    assert results["good.cue"].correlation_id == "w-1"
    assert results["bad.cue"].payload["status"] == "invalid"
    assert any("line 1" in error for error in results["bad.cue"].payload["errors"])
    assert results["gone.cue"].payload["status"] == "missing"
    assert results["good.cue"].payload["cue_file_id"] is None  # not one of ours


def test_files_outside_the_media_root_are_not_read(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    media: Path,
    tmp_path: Path,
) -> None:
    """Outside, through a link leading out, or missing: one answer, and nothing read."""
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "real.cue").write_text(BROKEN)  # read, it would be "invalid"
    os.symlink(outside, media / "etc-dir")
    os.symlink(outside / "real.cue", media / "link.cue")
    (media / "sets").mkdir()
    (media / "sets" / "mine.cue").write_text(VALID)
    os.symlink(media / "sets" / "mine.cue", media / "inner.cue")  # stays inside: fine
    paths = {
        "through-folder": media / "etc-dir" / "real.cue",
        "through-folder-missing": media / "etc-dir" / "no-such-file.cue",
        "file-link": media / "link.cue",
        "absolute": outside / "real.cue",
        "dot-dot": media / ".." / "etc" / "real.cue",
        "missing": media / "sets" / "gone.cue",
        "inner": media / "inner.cue",
    }
    for name, path in paths.items():
        broker.publish("file.changed", _event(path), correlation_id=name)
    with Running(consumer) as running:
        assert running.wait_for(len(paths)) == {"missing": 6, "valid": 1}
    reports = {
        event.correlation_id: {k: v for k, v in event.payload.items() if k != "file_path"}
        for event in outbox(sessions, "cue.validated")
    }
    assert reports.pop("inner")["status"] == "valid"
    assert len({json.dumps(report, sort_keys=True) for report in reports.values()}) == 1
    [report] = {json.dumps(report, sort_keys=True) for report in reports.values()}
    assert json.loads(report)["errors"] == ["no such file under the media root"]
    assert str(tmp_path) not in report


def test_without_a_media_root_only_our_storage_is_read(
    broker: Broker,
    sessions: sessionmaker[Session],
    rabbitmq_url: str,
    storage: Path,
    media: Path,
) -> None:
    settings = Settings(mq_rabbitmq_url=rabbitmq_url, storage_dir=storage)
    consumer = build("files", settings, sessions, broker.topology)
    storage.mkdir()
    (storage / "ours.cue").write_text(VALID)
    (media / "theirs.cue").write_text(VALID)
    broker.publish("file.changed", _event(storage / "ours.cue"))
    broker.publish("file.changed", _event(media / "theirs.cue"))
    with Running(consumer) as running:
        assert running.wait_for(2) == {"valid": 1, "missing": 1}


def _generated_file(sessions: sessionmaker[Session], storage: Path) -> tuple[uuid.UUID, Path]:
    """Store a tracklist, a CUE file generated from its version 1, then a changed version 2."""
    page = tracklist_page(
        "cuefile1", [("Carl Cox", "carlcox")], "2024-04-06", (entry(1, "A", "B", 0),)
    )
    tracklist_id = store_page(sessions, page)
    storage.mkdir(parents=True)
    path = storage / "old.cue"
    path.write_text(VALID)
    with sessions.begin() as session:
        row = CueFile(
            tracklist_id=tracklist_id,
            tracklist_version=1,
            format="standard",
            filename="cuefile1-set.cue",
            content=VALID,
            file_size=len(VALID),
            checksum="sha256:" + hashlib.sha256(VALID.encode()).hexdigest(),
            storage_path=str(path.resolve()),
        )
        session.add(row)
    changed = dataclasses.replace(page, entries=(*page.entries, entry(2, "New", "Row", 90_000)))
    store_page(sessions, changed)
    return row.id, path


def test_a_stale_file_we_generated_is_generated_again(
    broker: Broker, consumer: Consumer, sessions: sessionmaker[Session], storage: Path
) -> None:
    old_id, path = _generated_file(sessions, storage)
    broker.publish("file.changed", _event(path))
    with Running(consumer) as running:
        assert running.wait_for(1) == {"regenerated": 1}
    with sessions() as session:
        files = {row.id: row for row in session.scalars(select(CueFile))}
    assert len(files) == 2  # the old file stays
    [new] = [row for row in files.values() if row.id != old_id]
    assert new.tracklist_version == 2
    assert new.storage_path is not None
    assert Path(new.storage_path).read_text() == new.content
    assert '"Row"' in new.content
    [generated] = outbox(sessions, "cue.generated")
    assert generated.payload["cue_file_id"] == str(new.id)
    assert generated.payload["replaces"] == str(old_id)
    assert generated.payload["tracklist_version"] == 2
    [validated] = outbox(sessions, "cue.validated")
    assert validated.payload["regenerated_cue_file_id"] == str(new.id)


def test_a_duplicate_is_applied_once(
    broker: Broker, consumer: Consumer, sessions: sessionmaker[Session], storage: Path
) -> None:
    _old_id, path = _generated_file(sessions, storage)
    for _ in range(2):
        broker.publish("file.changed", _event(path), message_id="fs-1")
    with Running(consumer) as running:
        assert running.wait_for(2) == {"regenerated": 1, "duplicate": 1}
    with sessions() as session:
        assert len(session.scalars(select(CueFile)).all()) == 2
    assert len(outbox(sessions, "cue.generated")) == 1
    assert len(outbox(sessions, "cue.validated")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"file_type": "cue", "change_type": "modified"},
        {"file_path": "/etc/passwd", "file_type": "cue", "change_type": "modified"},
        {"file_path": "sets/\ud800.cue", "file_type": "cue"},
        {"file_path": 7, "file_type": "cue"},
        {"file_path": "/x.cue"},
    ],
)
def test_malformed_events_are_dead_lettered(
    broker: Broker, consumer: Consumer, sessions: sessionmaker[Session], body: dict[str, object]
) -> None:
    broker.publish("file.changed", body)
    with Running(consumer) as running:
        assert running.wait_for(1) == {"malformed": 1}
    assert len(dead_letters(broker, "files")) == 1
    assert outbox(sessions, "cue.validated") == []


def test_a_crash_before_the_ack_redelivers_and_regenerates_once(
    broker: Broker,
    consumer: Consumer,
    sessions: sessionmaker[Session],
    storage: Path,
    rabbitmq_url: str,
) -> None:
    _old_id, path = _generated_file(sessions, storage)
    queue = broker.topology.queues["files"].name
    broker.publish("file.changed", _event(path))
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    method, properties, raw = connection.channel().basic_get(queue, auto_ack=False)
    assert consumer.apply(Message.decode(method.routing_key, properties, raw)) == "regenerated"
    connection.close()
    with Running(consumer) as running:
        assert running.wait_for(1) == {"duplicate": 1}
    with sessions() as session:
        assert len(session.scalars(select(CueFile)).all()) == 2
    assert len(outbox(sessions, "cue.generated")) == 1
    assert len([p for p in storage.iterdir() if p.suffix == ".cue"]) == 2

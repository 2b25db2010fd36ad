"""JSON log lines: fields, the correlation id from context or extras, exceptions."""

from __future__ import annotations

import io
import json
import logging
import threading
import time

import pytest

from config import logs


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("crawler.x", logging.WARNING, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_one_json_object_per_line_with_extras() -> None:
    line = logs.JsonFormatter("worker").format(_record("stored", correlation_id="c-1", url="u"))
    event = json.loads(line)
    assert "\n" not in line
    assert event["level"] == "WARNING"
    assert event["logger"] == "crawler.x"
    assert event["message"] == "stored"
    assert event["component"] == "worker"
    assert (event["correlation_id"], event["url"]) == ("c-1", "u")
    assert event["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("created", "shown"),
    [
        (1_700_000_000.0, "2023-11-14T22:13:20.000+00:00"),
        (1_700_000_000.25, "2023-11-14T22:13:20.250+00:00"),
        (1_700_000_000.9996, "2023-11-14T22:13:20.999+00:00"),  # truncated, as isoformat does
        (1_700_000_001.007, "2023-11-14T22:13:21.007+00:00"),  # the next second
        (1_699_999_999.5, "2023-11-14T22:13:19.500+00:00"),  # and back
    ],
)
def test_time_in_utc_to_the_millisecond(created: float, shown: str) -> None:
    formatter = logs.JsonFormatter("api")
    for at in (created - 1, created):  # the second remembered from the line before
        record = _record("tick")
        record.created = at
        event = json.loads(formatter.format(record))
    assert event["time"] == shown


def test_request_id_from_context() -> None:
    token = logs.request_id.set("req-7")
    try:
        event = json.loads(logs.JsonFormatter("api").format(_record("hello", correlation_id="c")))
    finally:
        logs.request_id.reset(token)
    assert (event["request_id"], event["correlation_id"]) == ("req-7", "c")


def test_spider_objects_are_logged_by_name_and_exceptions_kept() -> None:
    class Spider:
        name = "worker"

    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record("failed", spider=Spider())
        record.exc_info = sys.exc_info()
    event = json.loads(logs.JsonFormatter("crawler").format(record))
    assert event["spider"] == "worker"
    assert "ValueError: boom" in event["exception"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_configure_replaces_handlers(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("relay", "INFO", fmt)
        logging.getLogger("relay.test").info("published %d", 3)
        err = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    if fmt == "json":
        assert json.loads(err)["message"] == "published 3"
    else:
        assert err.endswith("relay.test: published 3")


def test_configured_level_drops_quieter_records(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("consumer-search", "WARNING", "json")  # TRACKLIST_LOG_LEVEL=WARNING
        logging.getLogger("consumer.test").info("routine")
        logging.getLogger("consumer.test").warning("unusual")
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert [json.loads(line)["message"] for line in lines] == ["unusual"]


def test_background_writer_keeps_ids_exceptions_and_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    token = logs.request_id.set("req-9")
    try:
        logs.configure("api", "INFO", "json", background=True)
        log = logging.getLogger("api.test")
        values = [1]
        log.info("values %s", values)
        values.append(2)  # changed after logging: the line shows what was logged
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
        for number in range(50):
            log.info("line %d", number, extra={"number": number})
        logs.stop_background()  # writes what is still queued
        lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    finally:
        logs.request_id.reset(token)
        logs.stop_background()
        root.handlers[:], level = saved
        root.setLevel(level)
    assert lines[0]["message"] == "values [1]"
    assert {line["request_id"] for line in lines} == {"req-9"}
    assert lines[1]["message"] == "failed"
    assert "ValueError: boom" in lines[1]["exception"]
    assert [line["number"] for line in lines[2:]] == list(range(50))


def test_background_writer_writes_while_running_and_reports_bad_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("api", "INFO", "json", background=True)
        log = logging.getLogger("api.test")
        log.info("count %d", "not a number")  # the caller goes on: logging never raises
        threads = [
            threading.Thread(target=lambda n=n: log.info("thread", extra={"n": n}))
            for n in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Written by the writer's own schedule, not by stop_background().
        written = ""
        deadline = time.monotonic() + 5
        while written.count("\n") < 8 and time.monotonic() < deadline:
            time.sleep(logs.WRITE_INTERVAL)
            written += capsys.readouterr().err
    finally:
        logs.stop_background()
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [line for line in written.splitlines() if line.startswith("{")]
    assert sorted(json.loads(line)["n"] for line in lines) == list(range(8))
    assert "--- Logging error ---" in written
    assert "not a number" in written


def test_background_writer_reports_a_stream_it_cannot_write(
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = io.StringIO()
    closed.close()
    target = logging.StreamHandler(closed)
    writer = logs._BatchWriter(target)
    record = logging.LogRecord("api.test", logging.INFO, __file__, 1, "lost", None, None)
    try:
        writer.handle(record)
    finally:
        writer.stop()  # writes the pending line: the stream refuses, the writer reports it
    assert "--- Logging error ---" in capsys.readouterr().err

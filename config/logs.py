"""Structured logs: one JSON object per line, with the correlation id of the work at hand.

Every process (API, crawler, relay, consumers) logs through :func:`configure`. A crawl's
correlation id travels from the API request that queued it, through the worker that ran it,
to the events it produced; log calls carry it with ``extra={"correlation_id": ...}``. Within
one API request every line also carries that request's id (:data:`request_id`, a context
variable the API binds from the ``X-Request-ID`` header or makes up).
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
from collections import deque
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# How often the background writer writes what has accumulated, in seconds.
WRITE_INTERVAL = 0.05
# The handler writing the lines of a process configured with background=True.
_writer: _BatchWriter | None = None

# LogRecord attributes that are not extras a caller passed.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, component, ids, extras.

    The API logs a line per request, so this is on its hottest path: one encoder for all
    lines, and the time's date and seconds formatted once per second.
    """

    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component
        self._encoder = json.JSONEncoder(default=str, ensure_ascii=False)
        self._second: tuple[int, str] = (-1, "")

    def _time(self, created: float) -> str:
        """``created`` as ISO 8601 in UTC to the millisecond: ``2026-11-24T18:29:19.123+00:00``."""
        # To the microsecond first, as datetime.fromtimestamp rounds; then truncated, as
        # isoformat(timespec="milliseconds") does.
        second, micros = divmod(round(created * 1_000_000), 1_000_000)
        if second != self._second[0]:
            shown = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, shown)
        return f"{self._second[1]}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "component": self.component,
        }
        current = request_id.get()
        if current is not None:
            event["request_id"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                # Scrapy adds the spider object itself; its name is what a reader wants.
                event[key] = getattr(value, "name", value) if key == "spider" else value
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # formatted before a background handoff
            event["exception"] = record.exc_text
        return self._encoder.encode(event)


class _BatchWriter(logging.Handler):
    """Writes records from a thread of its own, every :data:`WRITE_INTERVAL` seconds, in one
    write per batch.

    A logging thread only appends the record to a deque: no lock, no wake-up. Waking a
    writer for each record (a queue) cost a handoff of the GIL per API request, and the
    access log was the largest cost of a cached read. The message, any traceback and the
    request id are taken in the logging thread: the arguments may change later, and the
    request id lives in that thread's context.
    """

    _exceptions = logging.Formatter()

    def __init__(self, target: logging.StreamHandler[Any]) -> None:
        super().__init__()
        self._target = target
        self._pending: deque[logging.LogRecord] = deque()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: deque.append is atomic, and the lock is what threads queued for.
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        # A copy (other handlers may still read the original), without copy.copy's generic
        # protocol: this runs for every access-log line.
        prepared = logging.LogRecord.__new__(logging.LogRecord)
        prepared.__dict__.update(record.__dict__)
        try:
            prepared.msg, prepared.args = record.getMessage(), None
        except Exception:  # arguments that do not fit the message: reported, never raised
            self.handleError(record)
            return
        if record.exc_info:
            prepared.exc_text = self._exceptions.formatException(record.exc_info)
            prepared.exc_info = None
        current = request_id.get()
        if current is not None:
            prepared.request_id = current
        self._pending.append(prepared)

    def _run(self) -> None:
        while not self._stopping.wait(WRITE_INTERVAL):
            self._write_pending()
        self._write_pending()

    def _write_pending(self) -> None:
        """Format and write the records appended so far."""
        lines: list[str] = []
        record = None
        while self._pending:
            record = self._pending.popleft()
            try:
                lines.append(self._target.format(record))
            except Exception:  # logging's own policy: report, never raise
                self._target.handleError(record)
        if record is None or not lines:
            return
        try:
            self._target.stream.write("\n".join(lines) + "\n")
            self._target.flush()
        except Exception:  # as above: a closed or broken stream
            self._target.handleError(record)

    def stop(self) -> None:
        """Write what is still pending and end the thread."""
        self._stopping.set()
        self._thread.join()


def configure(
    component: str, level: str = "INFO", fmt: str = "json", *, background: bool = False
) -> None:
    """Send every log record to stderr, as JSON lines (``fmt="json"``) or plain text.

    ``background=True`` (the API's workers) writes from a thread of its own, a batch every
    :data:`WRITE_INTERVAL`: a request only appends its line. Written in each request
    thread, under the handler's lock, the access log made threads queue for that lock
    around every write. :func:`stop_background` writes what is still pending (at exit too).
    """
    global _writer
    stop_background()
    stream = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        stream.setFormatter(JsonFormatter(component))
    else:
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler: logging.Handler = stream
    if background:
        handler = _writer = _BatchWriter(stream)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Neither format shows the caller's file and line, thread or process: skip looking them
    # up for every record (the logging HOWTO's "Optimization"; a tenth of a cached API read).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root.setLevel(level)
    # pika logs every connection step at INFO; its warnings and errors still come through.
    logging.getLogger("pika").setLevel(max(logging.WARNING, root.level))


@atexit.register
def stop_background() -> None:
    """Write the lines still queued for the background writer, and stop it (if running)."""
    global _writer
    if _writer is not None:
        writer, _writer = _writer, None
        writer.stop()


def use_json_formatter(component: str) -> None:
    """Switch the handlers someone else installed (Scrapy's) to JSON lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter(component))

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
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The thread writing the lines of a process configured with background=True.
_writer: QueueListener | None = None

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


class _Handoff(QueueHandler):
    """Queues records for the writer thread, with what is only known in the logging thread.

    The message and any traceback are formatted here (their arguments may change later),
    and the request id is read from this thread's context, to be shown by the writer.
    """

    _formatter = logging.Formatter()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # A shallow copy (other handlers may still read the original), without copy.copy's
        # generic protocol: this runs for every access-log line.
        prepared = logging.LogRecord.__new__(logging.LogRecord)
        prepared.__dict__.update(record.__dict__)
        prepared.msg, prepared.args = record.getMessage(), None
        if record.exc_info:
            prepared.exc_text = self._formatter.formatException(record.exc_info)
            prepared.exc_info = None
        current = request_id.get()
        if current is not None:
            prepared.request_id = current
        return prepared


def configure(
    component: str, level: str = "INFO", fmt: str = "json", *, background: bool = False
) -> None:
    """Send every log record to stderr, as JSON lines (``fmt="json"``) or plain text.

    ``background=True`` (the API's workers) writes from a thread of its own: a request only
    queues its line. Written in each request thread, under the handler's lock, the access
    log made threads queue for that lock around every write; its wakeups were a tenth of a
    cached read. :func:`stop_background` writes what is still queued (at exit too).
    """
    global _writer
    stop_background()
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(component))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if background:
        queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
        _writer = QueueListener(queue, handler)
        _writer.start()
        handler = _Handoff(queue)
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

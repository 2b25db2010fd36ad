"""gunicorn server hooks used by ``tracklists serve`` (``--config python:api.gunicorn_hooks``)."""

from __future__ import annotations

import os
from typing import Any


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared Prometheus files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def post_fork(_server: Any, _worker: Any) -> None:
    """Each worker logs like every other process: JSON lines (or text), at the service's level.

    Lines are written by a thread of the worker's own, so that a request only queues its
    access-log line (:func:`config.logs.configure`).
    """
    from config import logs
    from config.settings import load_settings

    settings = load_settings()
    logs.configure("api", settings.log_level, settings.log_format, background=True)


def worker_exit(_server: Any, _worker: Any) -> None:
    """Write the worker's queued log lines before it exits."""
    from config import logs

    logs.stop_background()

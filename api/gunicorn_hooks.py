"""gunicorn server hooks and settings used by ``tracklists serve`` (``--config
python:api.gunicorn_hooks``): every module-level name gunicorn knows is one of its settings."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger


class ServiceLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """gunicorn's own lines (workers booting and exiting, bad requests) as our log lines.

    gunicorn gives its ``gunicorn.error`` and ``gunicorn.access`` loggers handlers of their
    own with a ``%(process)d`` format; :func:`config.logs.configure` turns the lookup of
    the process off, so each of those lines became ``--- Logging error ---``. Here they lose
    their handlers and go up to the root logger, which :func:`config.logs.configure` sets up
    in the arbiter (now) and in each worker (:func:`post_fork`): JSON lines like every other.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from config import logs
        from config.settings import load_settings

        settings = load_settings()
        logs.configure("api", settings.log_level, settings.log_format)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                if getattr(handler, "_gunicorn", False):
                    log.removeHandler(handler)
            log.propagate = True


logger_class = ServiceLogger


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
    """Write the worker's queued log lines (its ``Worker exiting`` too) before it exits."""
    from config import logs

    logs.stop_background()

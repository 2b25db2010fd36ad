"""Request ids: taken from ``X-Request-ID`` (or made up), echoed, and on every log line.

One JSON log event per request (method, route, status, duration) replaces gunicorn's text
access log, so API logs are JSON lines like the crawler's and the relay's.
"""

from __future__ import annotations

import logging
import random
import re
import time
from contextvars import Token
from typing import NamedTuple

from flask import Flask, Response, g, request

from config import logs

HEADER = "X-Request-ID"
# What a proxy or client may hand us: ids are echoed into headers and logs, so keep them plain.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
log = logging.getLogger("api.requests")


def init_app(app: Flask) -> None:
    """Bind an id to every request and log each request once when it ends."""

    @app.before_request
    def bind_request_id() -> None:
        given = request.headers.get(HEADER, "")
        request_id = given if _ACCEPTABLE.fullmatch(given) else new_request_id()
        token = logs.request_id.set(request_id)
        g.request_log = _RequestLog(request_id, time.perf_counter(), token)

    @app.after_request
    def echo_and_log(response: Response) -> Response:
        bound: _RequestLog = g.request_log
        response.headers[HEADER] = bound.request_id
        # The request itself, not its proxy: four attributes are read (a hot path).
        current = request._get_current_object()  # type: ignore[attr-defined]
        rule = current.url_rule
        log.info(
            "%s %s %d",
            current.method,
            current.path,
            response.status_code,
            extra={
                "method": current.method,
                "route": rule.rule if rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - bound.started) * 1000, 2),
            },
        )
        return response

    @app.teardown_request
    def unbind_request_id(_error: BaseException | None) -> None:
        bound: _RequestLog | None = g.pop("request_log", None)
        if bound is not None:
            logs.request_id.reset(bound.token)


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex``.

    An id must be unique, not secret: taken from :mod:`random` (reseeded in each forked
    worker) rather than the OS, whose ``getrandom`` cost ~16 us per request on the bench
    machine, a tenth of a cached read.
    """
    return f"{random.getrandbits(128):032x}"


class _RequestLog(NamedTuple):
    """What a request's log line needs from its start."""

    request_id: str
    started: float
    token: Token[str | None]

"""Request ids: taken from ``X-Request-ID`` (or made up), echoed, and on every log line.

One JSON log event per request (method, route, status, duration) replaces gunicorn's text
access log, so API logs are JSON lines like the crawler's and the relay's.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from store import logs

HEADER = "X-Request-ID"
# What a proxy or client may hand us: ids are echoed into headers and logs, so keep them plain.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
log = logging.getLogger("api.requests")


def init_app(app: Flask) -> None:
    """Bind an id to every request and log each request once when it ends."""

    @app.before_request
    def bind_request_id() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.request_id_token = logs.request_id.set(g.request_id)

    @app.after_request
    def echo_and_log(response: Response) -> Response:
        response.headers[HEADER] = g.request_id
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
            },
        )
        return response

    @app.teardown_request
    def unbind_request_id(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)

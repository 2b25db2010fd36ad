"""Every error the API returns, as ``application/problem+json`` (RFC 9457), from one place.

Endpoint code raises :class:`ApiProblem` (or lets werkzeug/webargs/flask-jwt-extended raise
theirs); the handlers registered by :func:`init_app` turn all of them into a problem document::

    {"type": "urn:tracklists:problem:not-found", "title": "Not found", "status": 404,
     "detail": "no tracklist 123", "instance": "/api/v1/tracklist/123"}

``type`` URIs are stable identifiers clients may branch on (listed in :data:`PROBLEM_TYPES`);
validation problems add ``errors``: ``[{"field": "url", "location": "json", "message": "..."}]``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, json, request
from marshmallow.exceptions import SCHEMA
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from api import route_misses

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:tracklists:problem:"
_INTERNAL_DETAIL = "the server failed to handle the request"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: a stable ``type`` URI, a fixed title and its HTTP status."""

    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        """The ``type`` member of the problem document."""
        return PROBLEM_TYPE_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        ProblemType("bad-request", "Bad request", 400),
        ProblemType("unauthorized", "Authentication required", 401),
        ProblemType("invalid-credentials", "Invalid credentials", 401),
        ProblemType("invalid-token", "Invalid token", 401),
        ProblemType("expired-token", "Expired token", 401),
        ProblemType("revoked-token", "Revoked token", 401),
        ProblemType("forbidden", "Forbidden", 403),
        ProblemType("not-found", "Not found", 404),
        ProblemType("method-not-allowed", "Method not allowed", 405),
        ProblemType("request-timeout", "Request timeout", 408),
        ProblemType("conflict", "Conflict", 409),
        ProblemType("payload-too-large", "Payload too large", 413),
        ProblemType("unsupported-media-type", "Unsupported media type", 415),
        ProblemType("validation-error", "Invalid input", 422),
        ProblemType("rate-limited", "Too many requests", 429),
        ProblemType("internal-error", "Internal server error", 500),
        ProblemType("service-unavailable", "Service unavailable", 503),
    )
}
# The problem type used for each HTTP status raised without a more specific one.
_BY_STATUS = {
    problem.status: problem
    for problem in reversed(PROBLEM_TYPES.values())  # the first listed per status wins
}


class ApiProblem(Exception):
    """Raise from endpoint code to answer with a problem document.

    ``kind`` is a slug of :data:`PROBLEM_TYPES` (default: the generic type for ``status``);
    ``errors`` lists field errors; ``headers`` are added to the response.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = dict(headers or {})


def field_error(field: str, message: str, *, location: str = "json") -> ApiProblem:
    """A 422 naming one invalid input field (for checks a schema cannot express)."""
    return ApiProblem(
        422,
        f"invalid value for {field}: {message}",
        kind="validation-error",
        errors=[{"field": field, "location": location, "message": message}],
    )


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Build a problem+json response (the one place where problem documents are made)."""
    problem = PROBLEM_TYPES.get(kind or "") or _BY_STATUS.get(status)
    if problem is not None:
        body: dict[str, Any] = {"type": problem.uri, "title": problem.title}
    else:
        # Statuses we have no specific type for use RFC 9457's generic one.
        body = {"type": "about:blank", "title": _phrase(status)}
    body["status"] = status
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({key: value for key, value in extensions.items() if value is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Register the handlers that turn every exception into a problem document."""
    app.register_error_handler(ApiProblem, _handle_api_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, _handle_database_down)
    app.register_error_handler(Exception, _handle_unexpected)


def _handle_api_problem(error: ApiProblem) -> Response:
    return problem_response(
        error.status, error.detail, kind=error.kind, headers=error.headers, errors=error.errors
    )


def handle_http_exception(error: HTTPException) -> Response:
    """werkzeug's HTTP errors (404, 405, 413, 429, ...) and webargs' 400/422 as problems."""
    status = error.code or 500
    if status == 500:
        return problem_response(status, _INTERNAL_DETAIL)
    # Keep headers the error carries (Allow on 405, Retry-After on 429, WWW-Authenticate...).
    headers = {name: value for name, value in error.get_headers() if name != "Content-Type"}
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    if "messages" in data:
        errors = _flatten_messages(data["messages"])
        fields = ", ".join(sorted({item["field"] for item in errors}))
        return problem_response(status, f"invalid input: {fields}", headers=headers, errors=errors)
    detail = data.get("message") or _routing_detail(error) or error.description
    if status == 429:
        detail = f"rate limit exceeded ({detail}){_retry_after_text(headers.get('Retry-After'))}"
    return problem_response(status, detail, headers=headers)


def _retry_after_text(retry_after: str | None) -> str:
    """``"; retry after 12 seconds"`` for a ``Retry-After`` in seconds, else nothing."""
    if retry_after is None or not (retry_after.isascii() and retry_after.isdigit()):
        return ""
    seconds = int(retry_after)
    return f"; retry after {seconds} second{'' if seconds == 1 else 's'}"


def _routing_detail(error: HTTPException) -> str | None:
    """Say what was wrong with the URL or method when routing refused the request."""
    if request.url_rule is not None:  # raised by a view: its description is specific
        return None
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        allowed = ", ".join(sorted(error.valid_methods))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    if isinstance(error, NotFound):
        return route_misses.explain(current_app, request.path)
    return None


def _handle_database_down(error: OperationalError) -> Response:
    # A lost or refused connection is the database's state, not a bug: say so, retryably.
    logger.error("database error on %s %s: %s", request.method, request.path, error.orig)
    return problem_response(
        503, "the database is unavailable; try again shortly", headers={"Retry-After": "5"}
    )


def _handle_unexpected(error: Exception) -> Response:
    # Never leak the text of an internal error to the client; the log has the details.
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem_response(500, _INTERNAL_DETAIL)


def _flatten_messages(messages: Mapping[str, Any]) -> list[dict[str, str]]:
    """webargs' ``{"json": {"a": {"0": {"b": ["msg"]}}}}`` as ``[{"field": "a.0.b", ...}]``."""
    errors: list[dict[str, str]] = []

    def walk(location: str, path: list[str], value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(location, path if key == SCHEMA else [*path, str(key)], item)
        elif isinstance(value, list | tuple) and value and not isinstance(value[0], str):
            for item in value:
                walk(location, path, item)
        else:
            texts = value if isinstance(value, list | tuple) else [value]
            for text in texts:
                errors.append(
                    {
                        "field": ".".join(path) or location,
                        "location": location,
                        "message": str(text),
                    }
                )

    for location, fields in messages.items():
        walk(str(location), [], fields)
    return errors


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemSchema(ma.Schema):
    """The problem document, for the OpenAPI description of error responses."""

    type = ma.fields.String(required=True, metadata={"description": "stable problem type URI"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        metadata={"description": "invalid fields: field, location, message"},
    )

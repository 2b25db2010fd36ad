"""``{prefix}/tracklist``: stored tracklists, on-demand crawl requests and their status.

``POST /tracklist`` never scrapes: a stored tracklist scraped within
``TRACKLIST_API_TRACKLIST_MAX_AGE_HOURS`` is answered at once (200); anything else is recorded
and queued for the crawl workers (:class:`store.crawl_queue.CrawlQueue`) and answered 202 with
a correlation id to follow at ``GET /tracklist/status/{correlation_id}``. It needs an access
token unless ``TRACKLIST_API_CRAWL_REQUIRES_AUTH=false``. Reads are public.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import marshmallow as ma
import redis
from flask import Response, request, url_for
from flask_jwt_extended import get_jwt
from sqlalchemy import select

from api import cache
from api.errors import ApiProblem, field_error
from api.extensions import db, redis_store, settings
from api.openapi import Blueprint
from api.schemas import TracklistSchema
from api.security import require_role
from api.tracklist_body import tracklist_body
from domain.site import UrlRejected, canonical_public_url
from service import intake
from store.crawl_queue import CrawlQueue
from store.db import make_session_factory
from store.models import CrawlRequest, Tracklist

bp = Blueprint("tracklists", __name__, description="Tracklists and on-demand crawls.")

P = ParamSpec("P")
R = TypeVar("R")


def crawl_access(view: Callable[P, R]) -> Callable[P, R]:
    """``reader`` role when ``TRACKLIST_API_CRAWL_REQUIRES_AUTH`` (the default), else public.

    The access marker and the OpenAPI security of the protected view are copied, so the
    auth-matrix test and the document describe the default configuration.
    """
    protected = require_role("reader")(view)

    @wraps(protected)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if settings().api_crawl_requires_auth:
            return protected(*args, **kwargs)
        return view(*args, **kwargs)

    return wrapper


class TracklistRequestSchema(ma.Schema):
    """Which tracklist: its page ``url`` or a stored ``tracklist_id`` (exactly one)."""

    url = ma.fields.String(
        validate=ma.validate.Length(1, 2048),
        metadata={"example": "https://www.1001tracklists.com/tracklist/1abc2def/x.html"},
    )
    tracklist_id = ma.fields.UUID()
    force_refresh = ma.fields.Boolean(load_default=False)
    include_transitions = ma.fields.Boolean(load_default=True)
    correlation_id = ma.fields.UUID(metadata={"description": "yours to follow the crawl"})

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("url" in data) == ("tracklist_id" in data):
            raise ma.ValidationError("give either url or tracklist_id", "url")


class TracklistAnswerSchema(ma.Schema):
    """200: the stored tracklist; 202: the crawl request to follow."""

    status = ma.fields.String(required=True, metadata={"description": "done | queued | running"})
    correlation_id = ma.fields.UUID(allow_none=True, required=True)
    status_url = ma.fields.String(allow_none=True, required=True)
    tracklist = ma.fields.Nested(TracklistSchema, allow_none=True, required=True)


class CrawlStatusSchema(ma.Schema):
    """Where an on-demand crawl stands."""

    correlation_id = ma.fields.UUID(required=True)
    status = ma.fields.String(
        required=True, metadata={"description": "queued | running | done | failed | blocked"}
    )
    url = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    error = ma.fields.String(allow_none=True, required=True)
    tracklist_id = ma.fields.UUID(allow_none=True, required=True)
    tracklist_url = ma.fields.String(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    started_at = ma.fields.DateTime(allow_none=True, required=True)
    finished_at = ma.fields.DateTime(allow_none=True, required=True)


# GET /tracklist/{id}'s one option, read by hand (see _include_transitions) and documented here.
_INCLUDE_TRANSITIONS = {
    "in": "query",
    "name": "include_transitions",
    "required": False,
    "schema": {"type": "boolean", "default": True},
    "description": "List the transitions (default true)",
}


class TracklistCacheClearedSchema(ma.Schema):
    """How many cached responses were deleted."""

    deleted = ma.fields.Integer(required=True)


@bp.route("", methods=["POST"])
@crawl_access
@bp.arguments(TracklistRequestSchema())
@bp.response(200, TracklistAnswerSchema)
@bp.alt_response(202, schema=TracklistAnswerSchema, description="Queued for the crawlers")
@bp.alt_response(404, description="No stored tracklist with this id")
@bp.alt_response(409, description="The correlation id belongs to another request")
def request_tracklist(body: dict[str, Any]) -> Response | tuple[dict[str, Any], int, Any]:
    """A stored, fresh tracklist (200), or a crawl queued for it (202)."""
    if "tracklist_id" in body:
        stored = db.session.get(Tracklist, body["tracklist_id"])
        if stored is None:
            raise ApiProblem(404, f"no tracklist {body['tracklist_id']}")
        url = stored.url
    else:
        url = canonical_url(body["url"], "url")
    decision = _decide(url, body)
    if decision.tracklist is not None:
        found = tracklist_body(decision.tracklist.id, body["include_transitions"])
        if found is not None:
            return _stored_answer(*found)
        db.session.expire_all()
        decision = _decide(url, body)  # deleted in the meantime: decided again, it is crawled
    crawl = decision.request
    if crawl is None:
        raise ApiProblem(503, "the tracklist changed while it was read; try again")
    status_url = url_for(".crawl_status", correlation_id=crawl.correlation_id)
    answer = {
        "status": crawl.status,
        "correlation_id": crawl.correlation_id,
        "status_url": status_url,
        "tracklist": None,
    }
    return answer, 202, {"Location": status_url}


def _stored_answer(tracklist_json: bytes, hit: bool) -> Response:
    """The 200 answer around a stored tracklist's JSON, as :class:`TracklistAnswerSchema`.

    The tracklist's JSON comes from the response cache as bytes (re-serialising it would cost
    more than the rest of the request), so the envelope is written around it here; a test
    holds it to the schema.
    """
    envelope = TracklistAnswerSchema().dumps(
        {"status": "done", "correlation_id": None, "status_url": None, "tracklist": None}
    )
    head, tail = envelope.rsplit('"tracklist": null', 1)
    body = head.encode() + b'"tracklist": ' + tracklist_json + tail.encode()
    return Response(body, mimetype="application/json", headers=_x_cache(hit))


def canonical_url(raw: str, field: str) -> str:
    """The canonical public URL of a tracklist page; a 422 naming ``field`` if refused."""
    try:
        return canonical_public_url(raw)
    except UrlRejected as exc:
        raise field_error(field, str(exc)) from None


def _decide(url: str, body: dict[str, Any]) -> intake.Decision:
    """:func:`service.intake.decide` for this request; a conflicting correlation id is a 409."""
    try:
        return intake.decide(
            db.session,
            crawl_queue(),
            url,
            max_age=timedelta(hours=settings().api_tracklist_max_age_hours),
            force_refresh=body["force_refresh"],
            correlation_id=body.get("correlation_id"),
            requested_by=_requester(),
        )
    except intake.CorrelationConflict as exc:
        raise ApiProblem(409, str(exc)) from None


def crawl_queue() -> CrawlQueue:
    """The crawl queue on the app's Redis (in embedded mode a new client: Redis may be back)."""
    client = redis_store.client or redis.Redis.from_url(
        settings().effective_redis_url, socket_connect_timeout=1
    )
    return CrawlQueue(client, make_session_factory(db.engine))


def _requester() -> str | None:
    try:
        claims = get_jwt()
    except RuntimeError:  # public crawl requests (TRACKLIST_API_CRAWL_REQUIRES_AUTH=false)
        return None
    name = claims.get("name") or claims.get("sub")
    return str(name) if name else None


@bp.route("/status/<uuid:correlation_id>", methods=["GET"])
@bp.response(200, CrawlStatusSchema)
@bp.alt_response(404, description="No crawl request with this correlation id")
def crawl_status(correlation_id: uuid.UUID) -> dict[str, Any]:
    """Where an on-demand crawl stands; ``tracklist_url`` once it is stored."""
    found = db.session.scalars(
        select(CrawlRequest).where(CrawlRequest.correlation_id == correlation_id)
    ).first()
    if found is None:
        raise ApiProblem(404, f"no crawl request {correlation_id}")
    tracklist_url = (
        url_for(".get_tracklist", tracklist_id=found.tracklist_id) if found.tracklist_id else None
    )
    return {
        "correlation_id": found.correlation_id,
        "status": found.status,
        "url": found.url,
        "attempts": found.attempts,
        "error": found.error,
        "tracklist_id": found.tracklist_id,
        "tracklist_url": tracklist_url,
        "created_at": found.created_at,
        "started_at": found.started_at,
        "finished_at": found.finished_at,
    }


@bp.route("/<uuid:tracklist_id>", methods=["GET"])
@bp.doc(parameters=[_INCLUDE_TRANSITIONS])
@bp.response(200, TracklistSchema)
@bp.alt_response(404, description="No tracklist with this id")
@bp.alt_response(422, description="include_transitions is not a boolean")
def get_tracklist(tracklist_id: uuid.UUID) -> Response:
    """A stored tracklist with its tracks (and transitions unless turned off)."""
    found = tracklist_body(tracklist_id, _include_transitions())
    if found is None:
        raise ApiProblem(404, f"no tracklist {tracklist_id}")
    body, hit = found
    return Response(body, mimetype="application/json", headers=_x_cache(hit))


def _include_transitions() -> bool:
    # The hottest read: webargs' schema machinery was a tenth of its time for one flag.
    # Same spellings as marshmallow's Boolean field ("true", "0", "off", ...).
    if not request.query_string:  # the usual request: no query string to parse at all
        return True
    raw = request.args.get("include_transitions")
    if raw is None:
        return True
    if raw in ma.fields.Boolean.truthy:
        return True
    if raw in ma.fields.Boolean.falsy:
        return False
    raise field_error("include_transitions", "Not a valid boolean.", location="query")


def _x_cache(hit: bool) -> dict[str, str]:
    return {"X-Cache": "HIT" if hit else "MISS"}


@bp.route("/cache", methods=["DELETE"])
@require_role("editor")
@bp.response(200, TracklistCacheClearedSchema)
def clear_cache() -> dict[str, Any]:
    """Delete every cached tracklist and search response (editor or admin)."""
    try:
        return {"deleted": cache.clear("tracklist", "search")}
    except redis.RedisError as exc:
        raise ApiProblem(503, f"Redis is unavailable ({exc})") from None

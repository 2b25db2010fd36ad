"""``{prefix}/search``: tracklists by DJ, event or track, fuzzy, paginated, cached.

``GET /search/?query=carl coxx&search_type=dj`` answers the tracklists of the DJs whose name
is like the query (see :mod:`service.search.candidates` for how each backend matches); ``GET
/search/dj/{slug}`` and ``GET /search/event/{slug}`` list one DJ's or event's sets, newest
first. All are public (rate-limited per IP) and cached (:mod:`api.cache`).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import marshmallow as ma
from flask import Response
from sqlalchemy import func, select

from api import cache
from api.errors import ApiProblem, field_error
from api.extensions import db, settings
from api.openapi import Blueprint
from api.schemas import TracklistSummarySchema
from domain.identity import normalize
from service.search.candidates import SEARCH_TYPES, Candidate, candidates
from service.search.results import ResultPage, result_page
from store.models import Dj, OutboxEvent, Source

bp = Blueprint("search", __name__, description="Find tracklists by DJ, event or track.")

MAX_PAGE = 10_000
_MAX_SLUG = 300
_SECONDS_PER_HOUR = 3600


class PageArgs(ma.Schema):
    """Paging and the set-date window."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, MAX_PAGE))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))
    start_date = ma.fields.Date(metadata={"description": "sets on or after (YYYY-MM-DD)"})
    end_date = ma.fields.Date(metadata={"description": "sets on or before (YYYY-MM-DD)"})

    @ma.validates_schema
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("must not be before start_date", "end_date")


class SearchArgs(PageArgs):
    """A search."""

    query = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    search_type = ma.fields.String(
        load_default="dj",
        validate=ma.validate.OneOf(SEARCH_TYPES),
        metadata={"description": "match DJ names, event names or track artist/title"},
    )


class SearchResultSchema(TracklistSummarySchema):
    """A tracklist found, with what matched and how well."""

    score = ma.fields.Float(
        allow_none=True, required=True, metadata={"description": "0..1; null on slug lists"}
    )
    matched = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "the DJ, event or track"}
    )


class SearchResponseSchema(ma.Schema):
    """One page of results and the totals."""

    query = ma.fields.String(required=True)
    search_type = ma.fields.String(required=True)
    results = ma.fields.List(ma.fields.Nested(SearchResultSchema), required=True)
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)
    has_more = ma.fields.Boolean(required=True)


_RESPONSE = SearchResponseSchema()


@bp.route("/", methods=["GET"])
@bp.arguments(SearchArgs(), location="query")
@bp.response(200, SearchResponseSchema)
def search(args: dict[str, Any]) -> Response:
    """Tracklists whose DJ, event or track matches ``query`` (typos, case and accents)."""
    folded = normalize(args["query"])
    if not folded:
        raise field_error("query", "needs at least one letter or digit", location="query")
    search_type = args["search_type"]
    key = _key("search", search_type, folded, args)
    cached = cache.get("search", key)
    if cached is not None:
        return _json(cached, hit=True)
    found = candidates(db.session, search_type, folded)
    page = _page(search_type, found, args, scored=True)
    body = _body(args["query"], search_type, args, page)
    _store(key, body, empty=page.total == 0)
    return _json(body, hit=False)


@bp.route("/dj/<dj_slug>", methods=["GET"])
@bp.arguments(PageArgs(), location="query")
@bp.response(200, SearchResponseSchema)
@bp.alt_response(404, description="No DJ with this slug")
def by_dj(args: dict[str, Any], dj_slug: str) -> Response:
    """One DJ's tracklists, newest first (the slug is the site's: ``/dj/<slug>/``)."""
    return _slug_list("dj", dj_slug, args)


@bp.route("/event/<event_slug>", methods=["GET"])
@bp.arguments(PageArgs(), location="query")
@bp.response(200, SearchResponseSchema)
@bp.alt_response(404, description="No event with this slug")
def by_event(args: dict[str, Any], event_slug: str) -> Response:
    """One event's (source's) tracklists, newest first."""
    return _slug_list("event", event_slug, args)


def _slug_list(search_type: str, slug: str, args: dict[str, Any]) -> Response:
    what = "DJ" if search_type == "dj" else "event"
    # Control characters cannot be in a slug, and PostgreSQL refuses NUL in text.
    if len(slug) > _MAX_SLUG or any(ord(char) < 0x20 or ord(char) == 0x7F for char in slug):
        raise ApiProblem(404, f"no {what} {slug!r}")
    key = _key("search", search_type, f"slug:{slug}", args)
    cached = cache.get("search", key)
    if cached is not None:
        return _json(cached, hit=True)
    model: Any = Dj if search_type == "dj" else Source
    matching = db.session.execute(select(model.id, model.name).where(model.slug == slug)).all()
    if not matching:
        raise ApiProblem(404, f"no {what} {slug!r}")
    found = [Candidate(row[0], row[1], 1.0) for row in matching]
    page = _page(search_type, found, args, scored=False)
    body = _body(slug, search_type, args, page)
    _store(key, body, empty=page.total == 0)
    return _json(body, hit=False)


def _key(kind: str, search_type: str, what: str, args: dict[str, Any]) -> str:
    # Every tracklist created or changed adds an outbox event: its newest id dates the data.
    stamp = cache.stamp("outbox", lambda: db.session.scalar(select(func.max(OutboxEvent.id))))
    # A tuple, so that cache_key can remember the digest (a list would be hashed every time).
    window = (_iso(args.get("start_date")), _iso(args.get("end_date")))
    return cache.cache_key(kind, stamp, search_type, what, args["page"], args["limit"], window)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _page(
    search_type: str, found: list[Candidate], args: dict[str, Any], *, scored: bool
) -> ResultPage:
    return result_page(
        db.session,
        search_type,
        found,
        scored=scored,
        start=args.get("start_date"),
        end=args.get("end_date"),
        limit=args["limit"],
        offset=(args["page"] - 1) * args["limit"],
    )


def _body(query: str, search_type: str, args: dict[str, Any], page: ResultPage) -> bytes:
    limit = args["limit"]
    document = {
        "query": query,
        "search_type": search_type,
        "results": page.results,
        "total": page.total,
        "page": args["page"],
        "limit": limit,
        "pages": math.ceil(page.total / limit),
        "has_more": args["page"] * limit < page.total,
    }
    return json.dumps(_RESPONSE.dump(document), separators=(",", ":")).encode()


def _store(key: str, body: bytes, *, empty: bool) -> None:
    config = settings()
    ttl = (
        config.cache_failed_search_ttl_minutes * 60
        if empty
        else config.cache_search_ttl_hours * _SECONDS_PER_HOUR
    )
    cache.put(key, body, ttl)


def _json(body: bytes, *, hit: bool) -> Response:
    return Response(
        body, mimetype="application/json", headers={"X-Cache": "HIT" if hit else "MISS"}
    )

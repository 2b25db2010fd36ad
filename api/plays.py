"""Who played what: a track's plays, a DJ's most-played tracks, two DJs' shared tracks.

``GET {prefix}/tracks/{id}/plays``, ``GET {prefix}/djs/{slug}/top-tracks`` and
``GET {prefix}/djs/{a}/shared/{b}`` (reader role). The queries are :mod:`store.plays`'s; the
same data is in SQL views for data teams (docs/schema.md, "Views").
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import marshmallow as ma

from api.errors import ApiProblem
from api.extensions import db
from api.openapi import Blueprint
from api.security import require_role
from store import plays

bp = Blueprint("plays", __name__, description="Who played what, from the track catalogue.")

MAX_PAGE = 10_000
_MAX_SLUG = 300


class PageArgs(ma.Schema):
    """Paging."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, MAX_PAGE))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


class LimitArgs(ma.Schema):
    """How many to list."""

    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


class DjSchema(ma.Schema):
    """A DJ."""

    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class CatalogueTrackSchema(ma.Schema):
    """A catalogue track."""

    id = ma.fields.Integer(required=True)
    artist = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    version = ma.fields.String(allow_none=True, required=True)
    label = ma.fields.String(allow_none=True, required=True)


class PlaySchema(ma.Schema):
    """One set that played the track, and where in it."""

    tracklist_id = ma.fields.UUID(required=True)
    tracklist_title = ma.fields.String(required=True)
    tracklist_url = ma.fields.String(required=True)
    set_date = ma.fields.Date(allow_none=True, required=True)
    row = ma.fields.Integer(required=True, metadata={"description": "1-based row in the set"})
    position = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "shown"})
    cue_ms = ma.fields.Integer(allow_none=True, required=True)
    djs = ma.fields.List(ma.fields.Nested(DjSchema), required=True)


class TrackPlaysSchema(ma.Schema):
    """A track's plays, newest set first, with its totals and first play."""

    track = ma.fields.Nested(CatalogueTrackSchema, required=True)
    play_count = ma.fields.Integer(required=True, metadata={"description": "rows that played it"})
    set_count = ma.fields.Integer(required=True, metadata={"description": "distinct sets"})
    first_play = ma.fields.Nested(PlaySchema, allow_none=True, required=True)
    plays = ma.fields.List(ma.fields.Nested(PlaySchema), required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class TrackCountSchema(ma.Schema):
    """A track and how often the DJ played it."""

    track = ma.fields.Nested(CatalogueTrackSchema, required=True)
    plays = ma.fields.Integer(required=True)
    sets = ma.fields.Integer(required=True)
    last_played = ma.fields.Date(allow_none=True, required=True)


class TopTracksSchema(ma.Schema):
    """A DJ's most-played tracks, most plays first."""

    dj = ma.fields.Nested(DjSchema, required=True)
    tracks = ma.fields.List(ma.fields.Nested(TrackCountSchema), required=True)


class SharedTrackSchema(ma.Schema):
    """A track both DJs played."""

    track = ma.fields.Nested(CatalogueTrackSchema, required=True)
    plays_a = ma.fields.Integer(required=True)
    plays_b = ma.fields.Integer(required=True)


class SharedTracksSchema(ma.Schema):
    """Tracks both DJs played, most plays together first."""

    dj_a = ma.fields.Nested(DjSchema, required=True)
    dj_b = ma.fields.Nested(DjSchema, required=True)
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    tracks = ma.fields.List(ma.fields.Nested(SharedTrackSchema), required=True)


# Bounded like the bigint ids it looks up: a larger number is a 404, not a database error.
@bp.route("/tracks/<int(max=9223372036854775807):track_id>/plays", methods=["GET"])
@require_role("reader")
@bp.arguments(PageArgs(), location="query")
@bp.response(200, TrackPlaysSchema)
@bp.alt_response(404, description="No catalogue track with this id")
def track_plays(args: dict[str, Any], track_id: int) -> dict[str, Any]:
    """Every set that played a catalogue track (DJs, date, position), its count and first play."""
    found = plays.track_plays(
        db.session, track_id, limit=args["limit"], offset=(args["page"] - 1) * args["limit"]
    )
    if found is None:
        raise ApiProblem(404, f"no track {track_id}")
    return {
        **asdict(found),
        "page": args["page"],
        "limit": args["limit"],
        "pages": math.ceil(found.play_count / args["limit"]),
    }


@bp.route("/djs/<dj_slug>/top-tracks", methods=["GET"])
@require_role("reader")
@bp.arguments(LimitArgs(), location="query")
@bp.response(200, TopTracksSchema)
@bp.alt_response(404, description="No DJ with this slug")
def top_tracks(args: dict[str, Any], dj_slug: str) -> dict[str, Any]:
    """A DJ's most-played tracks (b2b sets count for every DJ credited)."""
    found = plays.dj_top_tracks(db.session, _slug(dj_slug), limit=args["limit"])
    if found is None:
        raise ApiProblem(404, f"no DJ {dj_slug!r}")
    dj, tracks = found
    return {"dj": asdict(dj), "tracks": [asdict(track) for track in tracks]}


@bp.route("/djs/<dj_slug>/shared/<other_slug>", methods=["GET"])
@require_role("reader")
@bp.arguments(PageArgs(), location="query")
@bp.response(200, SharedTracksSchema)
@bp.alt_response(404, description="No DJ with one of these slugs")
def shared_tracks(args: dict[str, Any], dj_slug: str, other_slug: str) -> dict[str, Any]:
    """Tracks both DJs played, with each one's play count."""
    found = plays.shared_tracks(
        db.session,
        _slug(dj_slug),
        _slug(other_slug),
        limit=args["limit"],
        offset=(args["page"] - 1) * args["limit"],
    )
    if found is None:
        raise ApiProblem(404, f"no DJ {dj_slug!r} or no DJ {other_slug!r}")
    dj_a, dj_b, total, tracks = found
    return {
        "dj_a": asdict(dj_a),
        "dj_b": asdict(dj_b),
        "total": total,
        "page": args["page"],
        "limit": args["limit"],
        "tracks": [asdict(track) for track in tracks],
    }


def _slug(slug: str) -> str:
    # Control characters cannot be in a slug, and PostgreSQL refuses NUL in text.
    if len(slug) > _MAX_SLUG or any(ord(char) < 0x20 or ord(char) == 0x7F for char in slug):
        raise ApiProblem(404, f"no DJ {slug[:50]!r}")
    return slug

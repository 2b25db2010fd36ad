"""Marshmallow schemas of the seed's data models, shared by the search and tracklist views.

They document the responses in the OpenAPI description and serialize them, so what is
described is what is sent.
"""

from __future__ import annotations

import marshmallow as ma


class LinkedNameSchema(ma.Schema):
    """A DJ or an event (source) as linked from a tracklist's heading."""

    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True, required=True)


class TracklistSummarySchema(ma.Schema):
    """A tracklist in a list: the heading facts, no tracks."""

    id = ma.fields.UUID(required=True)
    url = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    dj_name = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "DJs joined with ' & '"}
    )
    event_name = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "the first source linked"}
    )
    date = ma.fields.Date(allow_none=True, required=True)
    djs = ma.fields.List(ma.fields.Nested(LinkedNameSchema), required=True)
    events = ma.fields.List(ma.fields.Nested(LinkedNameSchema), required=True)
    genres = ma.fields.List(ma.fields.String(), required=True)
    track_count = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "active | gone (the site deleted it; kept and served as last seen) "
            "| blocked (its latest crawls met anti-bot pages)"
        },
    )


class TimestampSchema(ma.Schema):
    """Where a track starts in the recording (only when the page shows a cue time)."""

    track_number = ma.fields.Integer(required=True)
    timestamp_ms = ma.fields.Integer(required=True)
    formatted_time = ma.fields.String(required=True, metadata={"example": "1:02:03"})


class TrackSchema(ma.Schema):
    """One row of a tracklist."""

    number = ma.fields.Integer(required=True, metadata={"description": "1-based row"})
    position = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "number shown; null on w/"}
    )
    timestamp = ma.fields.Nested(TimestampSchema, allow_none=True, required=True)
    artist = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    remix = ma.fields.String(allow_none=True, required=True)
    label = ma.fields.String(allow_none=True, required=True)
    is_id = ma.fields.Boolean(required=True)
    played_with_previous = ma.fields.Boolean(required=True)
    mashup_parts = ma.fields.List(ma.fields.String(), required=True)


class TransitionSchema(ma.Schema):
    """From one track to the next, as the page states it (never an invented duration)."""

    from_track = ma.fields.Integer(required=True)
    to_track = ma.fields.Integer(required=True)
    transition_type = ma.fields.String(
        required=True, metadata={"description": "sequential | layered"}
    )
    timestamp_ms = ma.fields.Integer(allow_none=True, required=True)
    duration_ms = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "always null: not on pages"}
    )
    notes = ma.fields.String(allow_none=True, required=True)


class TracklistMetadataSchema(ma.Schema):
    """Where the tracklist stands in the store."""

    site_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "active | blocked | gone"})
    version = ma.fields.Integer(required=True)


class TracklistSchema(TracklistSummarySchema):
    """The Tracklist model: heading, tracks, transitions."""

    tracks = ma.fields.List(ma.fields.Nested(TrackSchema), required=True)
    transitions = ma.fields.List(
        ma.fields.Nested(TransitionSchema),
        allow_none=True,
        required=True,
        metadata={"description": "null when include_transitions is false"},
    )
    metadata = ma.fields.Nested(TracklistMetadataSchema, required=True)
    scraped_at = ma.fields.DateTime(required=True)
    source_html_hash = ma.fields.String(allow_none=True, required=True)

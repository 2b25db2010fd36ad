"""A stored tracklist's JSON, from the response cache or built from the store and cached.

The cache key holds the tracklist's ``version`` and ``updated_at`` (read first, by primary
key), so a changed tracklist gets a new key and is never served stale (see :mod:`api.cache`).
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from api import cache
from api.extensions import db, settings
from api.schemas import TracklistSchema
from service.tracklist_view import detail, headings
from store.models import Tracklist, TracklistEntry

_SCHEMA = TracklistSchema()
_SECONDS_PER_HOUR = 3600


def tracklist_body(tracklist_id: uuid.UUID, include_transitions: bool) -> tuple[bytes, bool] | None:
    """The Tracklist model as JSON bytes and whether the cache had it; ``None``: no such id.

    The request's session (:attr:`api.extensions.Database.session`) is only opened when the
    cache cannot answer: on a hit, opening and closing it was a tenth of the request.
    """

    def read() -> tuple[int, str] | None:
        row = db.session.execute(
            select(Tracklist.version, Tracklist.updated_at).where(
                Tracklist.id == tracklist_id,
                Tracklist.version > 0,  # held: nothing to serve
            )
        ).one_or_none()
        return None if row is None else (row.version, row.updated_at.isoformat())

    found = cache.stamp(f"tracklist:{tracklist_id}", read)
    if found is None:
        return None
    key = cache.cache_key("tracklist", str(tracklist_id), *found, include_transitions)
    cached = cache.get("tracklist", key)
    if cached is not None:
        return cached, True
    session = db.session
    tracklist = session.get(Tracklist, tracklist_id)
    if tracklist is None or not tracklist.is_published:  # deleted between the two reads
        return None
    entries = list(
        session.scalars(
            select(TracklistEntry)
            .where(TracklistEntry.tracklist_id == tracklist_id)
            .order_by(TracklistEntry.row)
        )
    )
    heading = headings(session, [tracklist_id])[tracklist_id]
    document = detail(tracklist, heading, entries, include_transitions=include_transitions)
    body = json.dumps(_SCHEMA.dump(document), separators=(",", ":")).encode()
    cache.put(key, body, settings().cache_tracklist_ttl_hours * _SECONDS_PER_HOUR)
    return body, False

"""A stored tracklist as the ``cue`` library's input (shared by the API and the MQ consumers)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import cue
from store.models import Dj, Tracklist, TracklistDj, TracklistEntry


def cue_tracklist(session: Session, tracklist: Tracklist) -> cue.Tracklist:
    """The tracklist's current rows, DJs (b2b order), date and genres as a ``cue.Tracklist``."""
    entries = session.scalars(
        select(TracklistEntry)
        .where(TracklistEntry.tracklist_id == tracklist.id)
        .order_by(TracklistEntry.row)
    )
    djs = session.scalars(
        select(Dj.name)
        .join(TracklistDj, TracklistDj.dj_id == Dj.id)
        .where(TracklistDj.tracklist_id == tracklist.id)
        .order_by(TracklistDj.position)
    )
    return cue.Tracklist(
        title=tracklist.title,
        entries=tuple(
            cue.Entry(
                row=entry.row,
                artist=entry.artist,
                title=entry.title,
                cue_ms=entry.cue_ms,
                version=entry.version,
                label=entry.label,
                is_id=entry.is_id,
                played_with_previous=entry.played_with_previous,
                position=entry.position,
            )
            for entry in entries
        ),
        djs=tuple(djs),
        date=tracklist.set_date.isoformat() if tracklist.set_date else None,
        genres=tuple(str(genre) for genre in tracklist.genres or ()),
        url=tracklist.url,
    )

"""A stored tracklist as the ``cue`` library's input (shared by the API and the MQ consumers).

The current version comes from the published rows; an older version from its stored document
(``tracklist_versions.content``), so a sheet of any version can be made again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import cue
from store.models import Dj, Tracklist, TracklistDj, TracklistEntry, TracklistVersion


def cue_tracklist(
    session: Session, tracklist: Tracklist, version: TracklistVersion | None = None
) -> cue.Tracklist:
    """The tracklist's rows, DJs (b2b order), date and genres as a ``cue.Tracklist``.

    Those of the current version, or of ``version`` when another one is given.
    """
    if version is not None and version.version != tracklist.version:
        return _of_document(tracklist, version.content)
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


def _of_document(tracklist: Tracklist, content: dict[str, Any]) -> cue.Tracklist:
    return cue.Tracklist(
        title=str(content["title"]),
        entries=tuple(
            cue.Entry(
                row=int(entry["row"]),
                artist=str(entry["artist"]),
                title=str(entry["title"]),
                cue_ms=entry.get("cue_ms"),
                version=entry.get("version"),
                label=entry.get("label"),
                is_id=bool(entry.get("is_id")),
                played_with_previous=bool(entry.get("played_with_previous")),
                position=entry.get("position"),
            )
            for entry in content.get("entries") or ()
        ),
        djs=tuple(str(name) for name in content.get("djs") or ()),
        date=content.get("date"),
        genres=tuple(str(genre) for genre in content.get("genres") or ()),
        url=tracklist.url,
    )

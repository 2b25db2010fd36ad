"""Stored tracklists in the shapes of the seed's data models (Tracklist, Track, Transition).

Only what the page said is shown: a track's ``timestamp`` is ``null`` where the page shows no
cue time, and transitions are read off the order of the rows and their cue times. A
transition's ``duration_ms`` is always ``null``: a tracklist page never says how long a mix
between two tracks lasted, and we do not guess.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Dj, Source, Tracklist, TracklistDj, TracklistEntry, TracklistSource

_MS_PER_SECOND = 1000


@dataclass
class Heading:
    """The DJs and sources (events, venues, shows) of one tracklist, in heading order."""

    djs: list[Dj] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def headings(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Heading]:
    """Load the headings of many tracklists in two queries (not two per tracklist)."""
    found: dict[uuid.UUID, Heading] = defaultdict(Heading)
    if not ids:
        return found
    dj_rows = session.execute(
        select(TracklistDj.tracklist_id, Dj)
        .join(Dj, Dj.id == TracklistDj.dj_id)
        .where(TracklistDj.tracklist_id.in_(ids))
        .order_by(TracklistDj.tracklist_id, TracklistDj.position)
    )
    for tracklist_id, dj in dj_rows:
        found[tracklist_id].djs.append(dj)
    source_rows = session.execute(
        select(TracklistSource.tracklist_id, Source)
        .join(Source, Source.id == TracklistSource.source_id)
        .where(TracklistSource.tracklist_id.in_(ids))
        .order_by(TracklistSource.tracklist_id, TracklistSource.position)
    )
    for tracklist_id, source in source_rows:
        found[tracklist_id].sources.append(source)
    return found


def formatted_time(ms: int) -> str:
    """``MM:SS`` under an hour, ``H:MM:SS`` from an hour on (as the site writes cue times)."""
    seconds = ms // _MS_PER_SECOND
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def summary(tracklist: Tracklist, heading: Heading) -> dict[str, Any]:
    """The fields a list of tracklists shows (search results)."""
    return summary_fields(
        tracklist.id,
        tracklist.url,
        tracklist.title,
        tracklist.set_date,
        tracklist.genres,
        tracklist.track_count,
        status=tracklist.status,
        djs=[linked(dj.name, dj.slug, dj.url) for dj in heading.djs],
        events=[linked(source.name, source.slug, source.url) for source in heading.sources],
    )


def linked(name: str, slug: str, url: str | None) -> dict[str, Any]:
    """A DJ or event as a summary shows it."""
    return {"name": name, "slug": slug, "url": url}


def summary_fields(
    tracklist_id: uuid.UUID,
    url: str,
    title: str,
    set_date: date | None,
    genres: list[Any] | None,
    track_count: int,
    *,
    status: str,
    djs: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    """:func:`summary` from plain values; ``djs`` and ``events`` as ``{name, slug, url}``."""
    return {
        "id": tracklist_id,
        "url": url,
        "title": title,
        "dj_name": " & ".join(dj["name"] for dj in djs) or None,
        "event_name": events[0]["name"] if events else None,
        "date": set_date,
        "djs": djs,
        "events": events,
        "genres": list(genres or ()),
        "track_count": track_count,
        "status": status,
    }


def detail(
    tracklist: Tracklist,
    heading: Heading,
    entries: list[TracklistEntry],
    *,
    include_transitions: bool,
) -> dict[str, Any]:
    """The full Tracklist model: the summary, tracks, transitions and metadata."""
    return {
        **summary(tracklist, heading),
        "tracks": [track(entry) for entry in entries],
        "transitions": transitions(entries) if include_transitions else None,
        "metadata": {
            "site_id": tracklist.site_id,
            "status": tracklist.status,
            "version": tracklist.version,
        },
        "scraped_at": tracklist.scraped_at,
        "source_html_hash": tracklist.source_html_hash,
    }


def track(entry: TracklistEntry) -> dict[str, Any]:
    """One row as the Track model; ``number`` is the row, ``position`` the number shown."""
    timestamp = None
    if entry.cue_ms is not None:
        timestamp = {
            "track_number": entry.row,
            "timestamp_ms": entry.cue_ms,
            "formatted_time": formatted_time(entry.cue_ms),
        }
    return {
        "number": entry.row,
        "position": entry.position,
        "timestamp": timestamp,
        "artist": entry.artist,
        "title": entry.title,
        "remix": entry.version,
        "label": entry.label,
        "is_id": entry.is_id,
        "played_with_previous": entry.played_with_previous,
        "mashup_parts": [str(part.get("display", "")) for part in entry.mashup_parts or () if part],
    }


def transitions(entries: list[TracklistEntry]) -> list[dict[str, Any]]:
    """Transitions as the page states them.

    ``sequential``: the next top-level track follows the current one, at the next track's
    cue time when the page shows one. ``layered``: a "w/" row played together with the
    track before it. Nothing else is inferred (no types of mix, no durations).
    """
    result: list[dict[str, Any]] = []
    current: TracklistEntry | None = None  # the top-level track playing
    for entry in entries:
        if entry.played_with_previous and current is not None:
            result.append(_transition(current, entry, "layered", "played with the previous track"))
            continue
        if current is not None:
            result.append(_transition(current, entry, "sequential", None))
        current = entry
    return result


def _transition(
    before: TracklistEntry, after: TracklistEntry, kind: str, notes: str | None
) -> dict[str, Any]:
    return {
        "from_track": before.row,
        "to_track": after.row,
        "transition_type": kind,
        "timestamp_ms": after.cue_ms,
        "duration_ms": None,
        "notes": notes,
    }

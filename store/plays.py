"""Who played what: every play of a catalogue track, a DJ's most-played tracks, shared tracks.

A *play* is a tracklist entry linked to a catalogue track (``tracklist_entries.track_id``); ID
rows are not plays of anything. A set credited to several DJs (b2b) counts as a play by each of
them. Dates are the sets' dates (``tracklists.set_date``); sets without a date sort last.

The queries walk the indexes ``ix_tracklist_entries_track_id`` (track -> plays),
``ix_tracklist_djs_dj_id`` (DJ -> sets) and ``uq_tracklist_entries_tracklist_id`` (set ->
entries); ``bench/plays.py`` times them on a million entries. The same data is exposed to data
teams as SQL views (docs/schema.md, "Views").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select, text, true
from sqlalchemy.orm import Session

from store.models import Dj, Track, Tracklist, TracklistDj, TracklistEntry

# From this many sets on, a track's plays are paged by walking sets in date order.
POPULAR_SETS = 200
_UNDATED_ORDER = (Tracklist.id, TracklistEntry.row)


@dataclass(frozen=True, slots=True)
class DjRef:
    """A DJ as plays show them."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class TrackRef:
    """A catalogue track as plays show it."""

    id: int
    artist: str
    title: str
    version: str | None
    label: str | None


@dataclass(frozen=True, slots=True)
class Play:
    """One play: the set, its date and DJs, and where in the set the track came."""

    tracklist_id: uuid.UUID
    tracklist_title: str
    tracklist_url: str
    set_date: date | None
    row: int
    position: int | None
    cue_ms: int | None
    djs: tuple[DjRef, ...]


@dataclass(frozen=True, slots=True)
class TrackPlays:
    """A track's play count, set count, first play and one page of its plays (newest first)."""

    track: TrackRef
    play_count: int
    set_count: int
    first_play: Play | None
    plays: list[Play]


@dataclass(frozen=True, slots=True)
class TrackCount:
    """A track and how often a DJ (or each of two DJs) played it."""

    track: TrackRef
    plays: int
    sets: int
    last_played: date | None


@dataclass(frozen=True, slots=True)
class SharedTrack:
    """A track both DJs played, with each one's play count."""

    track: TrackRef
    plays_a: int
    plays_b: int


def track_plays(
    session: Session,
    track_id: int,
    *,
    limit: int,
    offset: int,
    popular_sets: int = POPULAR_SETS,
) -> TrackPlays | None:
    """Every set that played ``track_id`` (a page of them), or None for an unknown track.

    Plays come newest set first, undated sets last. For a track played in ``popular_sets``
    sets or more, PostgreSQL walks the sets in date order and probes each for the track (a
    page costs a few dozen index probes) instead of sorting every play.
    """
    track = session.get(Track, track_id)
    if track is None:
        return None
    _plan_for_the_values(session)
    play_count, set_count = session.execute(
        select(func.count(), func.count(TracklistEntry.tracklist_id.distinct())).where(
            TracklistEntry.track_id == track_id
        )
    ).one()
    base = _plays_query().where(TracklistEntry.track_id == track_id)
    undated = base.where(Tracklist.set_date.is_(None))
    if set_count >= popular_sets and session.get_bind().dialect.name == "postgresql":
        first = session.execute(_date_walk(track_id, newest_first=False).limit(1)).all()
        first = first or session.execute(undated.order_by(*_UNDATED_ORDER).limit(1)).all()
        page: list[Any] = list(
            session.execute(_date_walk(track_id).limit(limit).offset(offset)).all()
        )
        if len(page) < limit:  # past the dated plays: the undated ones follow
            dated = session.scalar(
                select(func.count())
                .select_from(TracklistEntry)
                .join(Tracklist, Tracklist.id == TracklistEntry.tracklist_id)
                .where(TracklistEntry.track_id == track_id, Tracklist.set_date.is_not(None))
            )
            skip = max(0, offset - (dated or 0))
            page += session.execute(
                undated.order_by(*_UNDATED_ORDER).limit(limit - len(page)).offset(skip)
            ).all()
    else:
        dated_last = Tracklist.set_date.is_(None)
        first = session.execute(
            base.order_by(dated_last, Tracklist.set_date, *_UNDATED_ORDER).limit(1)
        ).all()
        page = list(
            session.execute(
                base.order_by(dated_last, Tracklist.set_date.desc(), *_UNDATED_ORDER)
                .limit(limit)
                .offset(offset)
            ).all()
        )
    djs = _djs_of(session, {row.tracklist_id for row in [*first, *page]})
    plays = [_play(row, djs) for row in page]
    return TrackPlays(
        _track_ref(track), play_count, set_count, _play(first[0], djs) if first else None, plays
    )


def _plan_for_the_values(session: Session) -> None:
    """Make PostgreSQL plan each query for its actual track or DJ, in this transaction.

    psycopg prepares a statement after a few executions and PostgreSQL may then reuse one
    generic plan for every id; a generic plan fit for a rarely played track takes 30x longer
    on the most played one (measured with bench/plays.py).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # A busy DJ's plays (50,000 rows) are grouped and sorted in memory, not on disk.
        session.execute(text("SET LOCAL work_mem = '32MB'"))


def _date_walk(track_id: int, *, newest_first: bool = True) -> Select[Any]:
    """The track's plays in dated sets, sets walked in date order (PostgreSQL: LATERAL).

    The lateral reference makes the sets the outer side of the join, so the planner reads
    ``ix_tracklists_set_date`` in order and probes each set's entries, whatever it estimates.
    """
    sets = (
        select(Tracklist.id, Tracklist.title, Tracklist.url, Tracklist.set_date)
        .where(Tracklist.set_date.is_not(None))
        .subquery("sets")
    )
    rows = (
        select(TracklistEntry.row, TracklistEntry.position, TracklistEntry.cue_ms)
        .where(TracklistEntry.tracklist_id == sets.c.id, TracklistEntry.track_id == track_id)
        .lateral("rows")
    )
    when = sets.c.set_date.desc() if newest_first else sets.c.set_date
    return (
        select(
            sets.c.id.label("tracklist_id"),
            sets.c.title,
            sets.c.url,
            sets.c.set_date,
            rows.c.row,
            rows.c.position,
            rows.c.cue_ms,
        )
        .select_from(sets.join(rows, true()))
        .order_by(when, sets.c.id, rows.c.row)
    )


def dj_top_tracks(
    session: Session, slug: str, *, limit: int
) -> tuple[DjRef, list[TrackCount]] | None:
    """The DJ's most-played tracks (most plays first, ties by catalogue id), or None.

    The ranking counts plays only, from the covering index; set counts and last plays are
    then computed for the tracks ranked (a busy DJ's 50,000 plays are not all joined to their
    sets' dates).
    """
    dj = session.scalars(select(Dj).where(Dj.slug == slug)).one_or_none()
    if dj is None:
        return None
    _plan_for_the_values(session)
    ranked = session.execute(
        _dj_track_counts(dj.id).order_by(text("plays DESC"), TracklistEntry.track_id).limit(limit)
    ).all()
    ids = [row.track_id for row in ranked]
    details = {
        row.track_id: row
        for row in session.execute(
            select(
                TracklistEntry.track_id,
                func.count(TracklistEntry.tracklist_id.distinct()).label("sets"),
                func.max(Tracklist.set_date).label("last"),
            )
            .join(TracklistDj, TracklistDj.tracklist_id == TracklistEntry.tracklist_id)
            .join(Tracklist, Tracklist.id == TracklistEntry.tracklist_id)
            .where(TracklistDj.dj_id == dj.id, TracklistEntry.track_id.in_(ids))
            .group_by(TracklistEntry.track_id)
        )
    }
    tracks = _tracks(session, ids)
    counted = [
        TrackCount(
            tracks[row.track_id], row.plays, details[row.track_id].sets, details[row.track_id].last
        )
        for row in ranked
    ]
    return DjRef(dj.slug, dj.name), counted


def shared_tracks(
    session: Session, slug_a: str, slug_b: str, *, limit: int, offset: int
) -> tuple[DjRef, DjRef, int, list[SharedTrack]] | None:
    """Tracks both DJs played (most plays together first) and how many there are in all.

    None when either DJ is unknown.
    """
    found = {dj.slug: dj for dj in session.scalars(select(Dj).where(Dj.slug.in_((slug_a, slug_b))))}
    if slug_a not in found or slug_b not in found:
        return None
    _plan_for_the_values(session)
    a = _dj_track_counts(found[slug_a].id).subquery("a")
    b = _dj_track_counts(found[slug_b].id).subquery("b")
    joined = a.join(b, a.c.track_id == b.c.track_id)
    total = session.scalar(select(func.count()).select_from(joined)) or 0
    rows = session.execute(
        select(a.c.track_id, a.c.plays.label("plays_a"), b.c.plays.label("plays_b"))
        .select_from(joined)
        .order_by((a.c.plays + b.c.plays).desc(), a.c.track_id)
        .limit(limit)
        .offset(offset)
    ).all()
    tracks = _tracks(session, [row.track_id for row in rows])
    shared = [SharedTrack(tracks[row.track_id], row.plays_a, row.plays_b) for row in rows]
    dj_a, dj_b = found[slug_a], found[slug_b]
    return DjRef(dj_a.slug, dj_a.name), DjRef(dj_b.slug, dj_b.name), total, shared


def _dj_track_counts(dj_id: int) -> Select[int | None, int]:
    return (
        select(TracklistEntry.track_id, func.count().label("plays"))
        .join(TracklistDj, TracklistDj.tracklist_id == TracklistEntry.tracklist_id)
        .where(TracklistDj.dj_id == dj_id, TracklistEntry.track_id.is_not(None))
        .group_by(TracklistEntry.track_id)
    )


def _plays_query() -> Select[uuid.UUID, str, str, date | None, int, int | None, int | None]:
    return select(
        Tracklist.id.label("tracklist_id"),
        Tracklist.title,
        Tracklist.url,
        Tracklist.set_date,
        TracklistEntry.row,
        TracklistEntry.position,
        TracklistEntry.cue_ms,
    ).join(Tracklist, Tracklist.id == TracklistEntry.tracklist_id)


def _play(row: Any, djs: dict[uuid.UUID, tuple[DjRef, ...]]) -> Play:
    return Play(
        row.tracklist_id,
        row.title,
        row.url,
        row.set_date,
        row.row,
        row.position,
        row.cue_ms,
        djs.get(row.tracklist_id, ()),
    )


def _djs_of(session: Session, tracklist_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[DjRef, ...]]:
    """The credited DJs of each tracklist, in heading order (one query for a whole page)."""
    found: dict[uuid.UUID, list[DjRef]] = {}
    if tracklist_ids:
        rows = session.execute(
            select(TracklistDj.tracklist_id, Dj.slug, Dj.name)
            .join(Dj, Dj.id == TracklistDj.dj_id)
            .where(TracklistDj.tracklist_id.in_(tracklist_ids))
            .order_by(TracklistDj.tracklist_id, TracklistDj.position)
        )
        for tracklist_id, slug, name in rows:
            found.setdefault(tracklist_id, []).append(DjRef(slug, name))
    return {key: tuple(value) for key, value in found.items()}


def _tracks(session: Session, ids: list[int]) -> dict[int, TrackRef]:
    if not ids:
        return {}
    return {
        track.id: _track_ref(track)
        for track in session.scalars(select(Track).where(Track.id.in_(ids)))
    }


def _track_ref(track: Track) -> TrackRef:
    return TrackRef(track.id, track.artist, track.title, track.version, track.label)

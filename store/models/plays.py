"""Indexes that serve who-played-what (:mod:`store.plays`), declared on the table they index.

Both are covering for the plays queries, so PostgreSQL answers from the index alone: a track's
plays and the sets they are in (counts, distinct sets), and a set's catalogue tracks (a DJ's
most-played tracks, shared tracks). ``bench/plays.py`` measures them.
"""

from __future__ import annotations

from sqlalchemy import Index

from store.models.tracklists import TracklistEntry

TRACK_SETS_INDEX = Index(
    "ix_tracklist_entries_track_id_tracklist_id",
    TracklistEntry.track_id,
    TracklistEntry.tracklist_id,
)
SET_TRACKS_INDEX = Index(
    "ix_tracklist_entries_tracklist_id_track_id",
    TracklistEntry.tracklist_id,
    TracklistEntry.track_id,
)

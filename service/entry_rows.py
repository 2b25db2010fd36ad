"""A tracklist's published rows and catalogue links, written the same way for every origin.

A crawl (:mod:`pipelines.persist`), a published draft and a rollback
(:mod:`service.editing.versions`) all end in :func:`replace_entries`: catalogue tracks upserted
on their normalized key, then the tracklist's ``tracklist_entries`` replaced, so the
who-played-what views follow every change.
The statements are Core (one ``INSERT`` for many rows), portable to PostgreSQL and SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.identity import artist_key, normalize, track_key
from store.models import Base, Track, TracklistEntry


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One top-level row to store: what a page showed, or what an editor wrote.

    ``site_track_id`` and ``track_url`` only feed a catalogue track seen for the first time.
    """

    row: int
    position: int | None
    cue_ms: int | None
    played_with_previous: bool
    is_id: bool
    artist: str
    title: str
    version: str | None
    label: str | None
    mashup_parts: tuple[str, ...] = ()
    site_track_id: str | None = None
    track_url: str | None = None

    @classmethod
    def of_content(cls, entry: Mapping[str, Any]) -> EntryRow:
        """The row of a version's document (``tracklist_versions.content["entries"]``)."""
        return cls(
            row=int(entry["row"]),
            position=entry.get("position"),
            cue_ms=entry.get("cue_ms"),
            played_with_previous=bool(entry.get("played_with_previous")),
            is_id=bool(entry.get("is_id")),
            artist=str(entry["artist"]),
            title=str(entry["title"]),
            version=entry.get("version"),
            label=entry.get("label"),
            mashup_parts=tuple(
                str(part.get("display", "")) for part in entry.get("mashup_parts") or ()
            ),
            site_track_id=entry.get("track_id"),
        )


def table_of(model: type[Any]) -> Table:
    """The model's Table: Core statements on it batch rows (the ORM bulk path does not)."""
    return Base.metadata.tables[model.__tablename__]


def delete_rows_of(session: Session, model: type[Any], tracklist_id: uuid.UUID) -> None:
    """Delete a tracklist's rows in ``model``'s table (Core: no session synchronisation)."""
    table = table_of(model)
    session.execute(delete(table).where(table.c.tracklist_id == tracklist_id))


def upsert(session: Session, model: type[Any], rows: list[dict[str, Any]], key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO NOTHING on either backend (both speak it).

    PostgreSQL gets one statement for all rows, their columns as arrays (``unnest``): one
    round trip, statement triggers (the track words of migration 0008) run once, and the
    SQL is the same for any number of rows, so it is compiled once (a multi-row VALUES
    statement cost the crawler ~6 ms of compiling per page). SQLite: one row per execution.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        statement = sqlite.insert(table_of(model)).on_conflict_do_nothing(index_elements=[key])
        session.execute(statement, rows)
        return
    names = tuple(rows[0])
    session.execute(
        _upsert_from_arrays(table_of(model).name, names, key),
        {name: [row[name] for row in rows] for name in names},
    )


@lru_cache(maxsize=32)
def _upsert_from_arrays(table_name: str, names: tuple[str, ...], key: str) -> Executable:
    # Built once per table: constructing it per page cost the crawler more than the INSERT.
    table = Base.metadata.tables[table_name]
    arrays = [bindparam(name, type_=postgresql.ARRAY(table.c[name].type)) for name in names]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    rows_in = postgresql.insert(table).from_select(list(names), select(*source.c))
    return rows_in.on_conflict_do_nothing(index_elements=[key])


def ids_by_key(session: Session, key: Any, id_column: Any, keys: list[str]) -> dict[str, int]:
    """Map natural keys to row ids, in chunks that stay under SQLite's parameter limit."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for natural, row_id in session.execute(select(key, id_column).where(key.in_(chunk))):
            found[natural] = row_id
    return found


def _catalogue_row(entry: EntryRow) -> dict[str, Any]:
    return {
        "track_key": track_key(entry.artist, entry.title, entry.version),
        "artist": entry.artist,
        "title": entry.title,
        "version": entry.version,
        "label": entry.label,
        "artist_normalized": artist_key(entry.artist),
        "title_normalized": normalize(entry.title),
        "version_normalized": normalize(entry.version) if entry.version else None,
        "label_normalized": normalize(entry.label) if entry.label else None,
        "site_track_id": entry.site_track_id,
        "url": entry.track_url,
    }


def replace_entries(session: Session, tracklist_id: uuid.UUID, entries: Sequence[EntryRow]) -> None:
    """Make ``entries`` the tracklist's rows, linked to catalogue tracks (created as needed)."""
    # Unknown ("ID") tracks are rows of the set, not catalogue tracks: nothing to link them to.
    catalogue_rows = [None if e.is_id else _catalogue_row(e) for e in entries]
    catalogue = {row["track_key"]: row for row in catalogue_rows if row is not None}
    upsert(session, Track, list(catalogue.values()), "track_key")
    track_ids = ids_by_key(session, Track.track_key, Track.id, list(catalogue))
    delete_rows_of(session, TracklistEntry, tracklist_id)
    rows = [
        {
            "tracklist_id": tracklist_id,
            "row": entry.row,
            "position": entry.position,
            "cue_ms": entry.cue_ms,
            "played_with_previous": entry.played_with_previous,
            "is_id": entry.is_id,
            "artist": entry.artist,
            "title": entry.title,
            "version": entry.version,
            "label": entry.label,
            "mashup_parts": [{"display": part} for part in entry.mashup_parts],
            "track_id": None if row is None else track_ids[row["track_key"]],
        }
        for entry, row in zip(entries, catalogue_rows, strict=True)
    ]
    if rows:
        session.execute(insert(table_of(TracklistEntry)), rows)

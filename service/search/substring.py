"""The search the message-queue consumer answers (``tracklist.search`` requests).

Semantics, kept deliberately simple and independent of the HTTP API's ranked fuzzy search:
a tracklist matches when the query occurs, case-insensitively, in its title
(``search_type=title``), one of its DJs' names (``dj``), one of its sources' names (``event``)
or any of the three (``any``, the default). Results are newest set first (undated last), paged
by ``limit`` and ``offset``; ``total`` counts every match. PostgreSQL answers ``ILIKE`` from
the trigram indexes on those names; SQLite uses ``lower() LIKE``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.orm import Session

from store.models import Dj, Source, Tracklist, TracklistDj, TracklistSource

SEARCH_TYPES = ("any", "dj", "event", "title")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching tracklist with its heading."""

    tracklist_id: uuid.UUID
    title: str
    url: str
    set_date: date | None
    djs: tuple[str, ...]
    events: tuple[str, ...]


def search_tracklists(
    session: Session, query: str, search_type: str, *, limit: int, offset: int
) -> tuple[int, list[SearchHit]]:
    """``(total, page)`` of tracklists matching ``query`` (see the module docstring)."""
    if search_type not in SEARCH_TYPES:
        raise ValueError(f"search_type must be one of {', '.join(SEARCH_TYPES)}")
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matching = union(*_matchers(search_type, pattern)).subquery("matching")
    # A held first crawl (version 0) has nothing published: it is nobody's match yet.
    served = Tracklist.id.in_(select(matching.c.id)), Tracklist.version > 0
    total = session.scalar(select(func.count()).select_from(Tracklist).where(*served)) or 0
    rows = session.execute(
        select(Tracklist.id, Tracklist.title, Tracklist.url, Tracklist.set_date)
        .where(*served)
        .order_by(Tracklist.set_date.is_(None), Tracklist.set_date.desc(), Tracklist.id)
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [row.id for row in rows]
    djs = _names(session, TracklistDj.tracklist_id, TracklistDj.position, Dj.name, ids)
    events = _names(
        session, TracklistSource.tracklist_id, TracklistSource.position, Source.name, ids
    )
    hits = [
        SearchHit(
            row.id, row.title, row.url, row.set_date, djs.get(row.id, ()), events.get(row.id, ())
        )
        for row in rows
    ]
    return total, hits


def _matchers(search_type: str, pattern: str) -> list[Select[Any]]:
    def like(column: Any) -> ColumnElement[bool]:
        return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]

    matchers: list[Select[Any]] = []
    if search_type in ("any", "title"):
        matchers.append(select(Tracklist.id.label("id")).where(like(Tracklist.title)))
    if search_type in ("any", "dj"):
        matchers.append(
            select(TracklistDj.tracklist_id.label("id"))
            .join(Dj, Dj.id == TracklistDj.dj_id)
            .where(like(Dj.name))
        )
    if search_type in ("any", "event"):
        matchers.append(
            select(TracklistSource.tracklist_id.label("id"))
            .join(Source, Source.id == TracklistSource.source_id)
            .where(like(Source.name))
        )
    return matchers


def _names(
    session: Session, link: Any, position: Any, name: Any, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    found: dict[uuid.UUID, list[str]] = {}
    if ids:
        rows = session.execute(
            select(link, name).join(name.class_).where(link.in_(ids)).order_by(link, position)
        )
        for tracklist_id, value in rows:
            found.setdefault(tracklist_id, []).append(value)
    return {key: tuple(value) for key, value in found.items()}

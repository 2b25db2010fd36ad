"""Search queries on each backend: find matching DJs, events or tracks, then their tracklists.

Two steps, so the expensive ranking only ever sees a small set:

1. **Candidates** (at most :data:`MAX_CANDIDATES` DJs, sources or catalogue tracks) whose
   folded name matches the folded query. PostgreSQL: the trigram operator ``%`` (typos:
   "carl coxx" finds "Carl Cox") or a substring ``LIKE``, both answered by the trigram GIN
   indexes of migrations 0001/0002; then ``similarity()`` ranks that limited set only
   (ordering a million rows by similarity takes seconds). Tracks are first looked up word by
   word (:mod:`api.track_words`, far cheaper on a large catalogue), and by whole name only
   when that finds nothing. SQLite: substring ``LIKE`` on the folded name, scored with
   difflib in Python; no typo tolerance there.
2. **Tracklists** linked to the candidates, best match first, then newest; date filters,
   paging and the total in one query.

"Folded" is case- and accent-insensitive on both sides: ``tracklists_fold()`` is SQL on
PostgreSQL (``lower(unaccent())``, migration 0002) and :func:`crawler.pages.identity.normalize`
registered as a SQLite function by :func:`prepare_search`; queries are folded with
``normalize()``. Track names are stored folded already (``tracks.*_normalized``).
"""

from __future__ import annotations

import difflib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from psycopg.errors import QueryCanceled
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    case,
    event,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.track_words import WORD_SIMILARITY_THRESHOLD, track_candidates
from crawler.pages.identity import normalize
from store.models import (
    Dj,
    Source,
    Track,
    Tracklist,
    TracklistDj,
    TracklistEntry,
    TracklistSource,
)

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 50
# pg_trgm's default (0.3) lets names that share one word of two match ("Carl Cox" ~ "Carl
# Craig"); 0.4 still takes one-letter typos ("carl coxx" 0.7, "karl cox" 0.55) and a name's
# single word ("cox" ~ "Carl Cox" 0.5), with far fewer candidates to rank.
SIMILARITY_THRESHOLD = 0.4
_TRIGRAM = 3
# Track search by whole name (when the words find nothing) stops after this long.
TRACK_NAME_MATCH_TIMEOUT_MS = 300
_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")
SEARCH_TYPES = ("dj", "event", "track")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A DJ, source or track that matched, and how well (0..1)."""

    id: int
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page of tracklist ids with their scores, and the total over all pages."""

    rows: list[tuple[uuid.UUID, float | None]]
    total: int


def prepare_search(engine: Engine) -> None:
    """Ready the engine's connections for search, as each one is opened.

    SQLite gets ``tracklists_fold()`` (PostgreSQL has it from migration 0002). PostgreSQL
    connections get the trigram thresholds once, rather than a ``SET LOCAL`` round trip per
    search: ``%`` (whole names) at :data:`SIMILARITY_THRESHOLD` and ``%>>`` (track words,
    :mod:`api.track_words`) at its word threshold.
    """
    if engine.dialect.name == "postgresql":

        def set_thresholds(dbapi_connection: Any, _record: Any) -> None:
            # Outside a transaction, so that the pool's rollback on check-in keeps them.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            dbapi_connection.execute(
                f"SET pg_trgm.similarity_threshold = {SIMILARITY_THRESHOLD}; "
                f"SET pg_trgm.strict_word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD}"
            )
            dbapi_connection.autocommit = autocommit

        event.listen(engine, "connect", set_thresholds)
        return

    def fold(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function(
            "tracklists_fold",
            1,
            lambda text: None if text is None else normalize(text),
            deterministic=True,
        )

    event.listen(engine, "connect", fold)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def candidates(session: Session, search_type: str, folded_query: str) -> list[Candidate]:
    """The DJs, sources or tracks matching ``folded_query``, best first."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and search_type == "track":
        by_words = track_candidates(session, folded_query, MAX_CANDIDATES)
        if by_words or len(folded_query) < _TRIGRAM:
            # Fewer than three characters give the trigram indexes nothing to look up:
            # matching them inside whole names would read the whole catalogue (seconds).
            return [Candidate(*row) for row in by_words]
    pattern = f"%{_escape_like(folded_query)}%"
    if search_type == "track":
        columns: list[Any] = [Track.artist_normalized, Track.title_normalized]
        display: ColumnElement[str] = Track.artist + literal(" - ") + Track.title
        key: Any = Track.id
    else:
        model: Any = Dj if search_type == "dj" else Source
        columns = [func.tracklists_fold(model.name)]
        display, key = model.name, model.id
    matches: list[ColumnElement[bool]] = [column.like(pattern, escape="\\") for column in columns]
    if postgres:
        matches += [column.op("%")(folded_query) for column in columns]
    inner = (
        select(
            key.label("id"),
            display.label("name"),
            *(c.label(f"f{i}") for i, c in enumerate(columns)),
        )
        .where(or_(*matches))
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    folded = [inner.c[f"f{i}"] for i in range(len(columns))]
    if postgres:
        scores = [func.similarity(column, folded_query) for column in folded]
        score = func.greatest(*scores) if len(scores) > 1 else scores[0]
        statement = select(inner.c.id, inner.c.name, score)
        scored = (
            _within_time(session, statement, folded_query)
            if search_type == "track"
            else session.execute(statement).all()
        )
        found = [Candidate(row[0], row[1], float(row[2])) for row in scored]
    else:
        rows = session.execute(select(inner.c.id, inner.c.name, *folded)).all()
        found = [
            Candidate(row[0], row[1], max(_ratio(folded_query, text) for text in row[2:]))
            for row in rows
        ]
    return sorted(found, key=lambda found_one: (-found_one.score, found_one.name))


def _within_time(session: Session, statement: Select[Any], folded_query: str) -> Sequence[Any]:
    """Rows of a whole-name track match, or none if it runs past its time limit.

    Matching whole names in a large catalogue can take seconds for a query made of common
    trigrams; giving up (logged) beats holding a worker and the database that long.
    """
    try:
        with session.begin_nested():  # a cancelled statement rolls back to here only
            session.execute(text(f"SET LOCAL statement_timeout = {TRACK_NAME_MATCH_TIMEOUT_MS}"))
            rows = session.execute(statement).all()
            session.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
    except OperationalError as error:
        if not isinstance(error.orig, QueryCanceled):
            raise
        logger.warning(
            "track search by whole name gave up after %d ms: %r",
            TRACK_NAME_MATCH_TIMEOUT_MS,
            folded_query,
        )
        return ()
    return rows


def _ratio(query: str, text: str | None) -> float:
    return round(difflib.SequenceMatcher(None, query, text or "").ratio(), 4)


def _link(search_type: str) -> tuple[Any, Any]:
    """The table linking tracklists to the candidates, and its candidate column."""
    if search_type == "dj":
        return TracklistDj, TracklistDj.dj_id
    if search_type == "event":
        return TracklistSource, TracklistSource.source_id
    return TracklistEntry, TracklistEntry.track_id


def _dated(query: _S, start: date | None, end: date | None) -> _S:
    if start is not None:
        query = query.where(Tracklist.set_date >= start)
    if end is not None:
        query = query.where(Tracklist.set_date <= end)
    return query


def ranked_tracklists(
    session: Session,
    search_type: str,
    found: list[Candidate],
    *,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> Page:
    """Tracklists linked to ``found``: best score first, then newest; one page and a total."""
    if not found:
        return Page([], 0)
    link, column = _link(search_type)
    score = func.max(case({c.id: c.score for c in found}, value=column, else_=0.0))
    query = _dated(
        select(Tracklist.id, score.label("score"), func.count().over().label("total"))
        .join(link, link.tracklist_id == Tracklist.id)
        .where(column.in_([c.id for c in found]))
        .group_by(Tracklist.id, Tracklist.set_date),
        start,
        end,
    ).order_by(score.desc(), Tracklist.set_date.desc().nulls_last(), Tracklist.id)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    if rows:
        return Page([(row[0], float(row[1])) for row in rows], int(rows[0][2]))
    count = _dated(
        select(func.count(func.distinct(link.tracklist_id)))
        .join(Tracklist, link.tracklist_id == Tracklist.id)
        .where(column.in_([c.id for c in found])),
        start,
        end,
    )
    return Page([], int(session.scalar(count) or 0))


def linked_tracklists(
    session: Session,
    link: Any,
    column: Any,
    ids: list[int],
    *,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> Page:
    """Tracklists of given DJs or sources (the slug endpoints): newest first, no score."""
    if not ids:
        return Page([], 0)
    base = _dated(
        select(Tracklist.id, Tracklist.set_date)
        .join(link, link.tracklist_id == Tracklist.id)
        .where(column.in_(ids))
        .distinct(),
        start,
        end,
    )
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    ordered = base.order_by(Tracklist.set_date.desc().nulls_last(), Tracklist.id)
    rows = session.execute(ordered.limit(limit).offset(offset)).all()
    return Page([(row[0], None) for row in rows], total)


def matched_names(
    session: Session, search_type: str, found: list[Candidate], ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """For each tracklist of a page, the name of its best-scoring candidate."""
    if not ids or not found:
        return {}
    link, column = _link(search_type)
    by_id = {c.id: c for c in found}
    best: dict[uuid.UUID, Candidate] = {}
    rows = session.execute(
        select(link.tracklist_id, column)
        .where(link.tracklist_id.in_(ids))
        .where(column.in_(list(by_id)))
    )
    for tracklist_id, candidate_id in rows:
        candidate = by_id[candidate_id]
        if tracklist_id not in best or candidate.score > best[tracklist_id].score:
            best[tracklist_id] = candidate
    return {tracklist_id: candidate.name for tracklist_id, candidate in best.items()}

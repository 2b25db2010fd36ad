"""Search queries on each backend: find matching DJs, events or tracks, then their tracklists.

Two steps, so the expensive ranking only ever sees a small set:

1. **Candidates** (at most :data:`MAX_CANDIDATES` DJs, sources or catalogue tracks) whose
   folded name matches the folded query. PostgreSQL: the trigram operator ``%`` (typos:
   "carl coxx" finds "Carl Cox") or a substring ``LIKE``, both answered by the trigram GIN
   indexes of migrations 0001/0002; then ``similarity()`` ranks that limited set only
   (ordering a million rows by similarity takes seconds). Tracks are first looked up word by
   word (:mod:`service.search.track_words`, far cheaper on a large catalogue), and by whole
   name only when that finds nothing. SQLite: substring ``LIKE`` on the folded name, scored with
   difflib in Python; no typo tolerance there.
2. **Tracklists** linked to the candidates, best match first, then newest; date filters,
   paging and the total (:mod:`service.search.results`).

"Folded" is case- and accent-insensitive on both sides: ``tracklists_fold()`` is SQL on
PostgreSQL (``lower(unaccent())``, migration 0002) and :func:`domain.identity.normalize`
registered as a SQLite function by :func:`prepare_search`; queries are folded with
``normalize()``. Track names are stored folded already (``tracks.*_normalized``).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.errors import QueryCanceled
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    event,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from domain.identity import normalize
from service.search.track_words import WORD_SIMILARITY_THRESHOLD, track_candidates
from store.models import (
    Dj,
    Source,
    Track,
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
SEARCH_TYPES = ("dj", "event", "track")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A DJ, source or track that matched, and how well (0..1)."""

    id: int
    name: str
    score: float


def prepare_search(engine: Engine) -> None:
    """Ready the engine's connections for search, as each one is opened.

    SQLite gets ``tracklists_fold()`` (PostgreSQL has it from migration 0002). PostgreSQL
    connections get the trigram thresholds once, rather than a ``SET LOCAL`` round trip per
    search: ``%`` (whole names) at :data:`SIMILARITY_THRESHOLD` and ``%>>`` (track words,
    :mod:`service.search.track_words`) at its word threshold.
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
    """The DJs, sources or tracks matching ``folded_query``, best first (then by name)."""
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

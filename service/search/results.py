"""One page of search results: the tracklists linked to the candidates found, ready to show.

Best score first, then newest, then by id; date filters; paging; the total over all pages.
Each result carries its tracklist's summary (:func:`service.tracklist_view.summary_fields`), its
score and the name of its best-scoring candidate (``matched``).

PostgreSQL answers all of it in one statement (:data:`_PAGE`): the candidates go in as
arrays, so the statement text is the same for every search and psycopg prepares it once.
Ranking, the page's tracklists, their DJs and sources, and the matched names used to be five
statements, a third of a search's time. SQLite, the embedded development store, takes the
same steps with portable queries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.orm import Session

from service.search.candidates import Candidate
from service.tracklist_view import headings, linked, summary, summary_fields
from store.models import Tracklist, TracklistDj, TracklistEntry, TracklistSource

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")
# The table linking tracklists to each kind of candidate, and its candidate column.
_LINKS: dict[str, tuple[Any, Any]] = {
    "dj": (TracklistDj, TracklistDj.dj_id),
    "event": (TracklistSource, TracklistSource.source_id),
    "track": (TracklistEntry, TracklistEntry.track_id),
}
# ``{link}``/``{column}`` come from _LINKS only. A tracklist's best candidate is the first
# of ``found`` (best first) linked to it: its score ranks the tracklist, its name is what
# matched. ``filtered`` is read twice (the page and the total), so it is computed once; the
# one-row ``total`` side keeps the total when the page is past the end.
_PAGE = """
WITH found AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:scores AS double precision[]))
        WITH ORDINALITY AS found(id, score, rank)
),
filtered AS MATERIALIZED (
    SELECT tracklist.id, tracklist.set_date, linked.best
    FROM (
        SELECT link.tracklist_id, min(found.rank) AS best
        FROM {link} AS link JOIN found ON link.{column} = found.id
        GROUP BY link.tracklist_id
    ) AS linked
    JOIN tracklists AS tracklist ON tracklist.id = linked.tracklist_id
    WHERE tracklist.version > 0
        AND (CAST(:start AS date) IS NULL OR tracklist.set_date >= CAST(:start AS date))
        AND (CAST(:end AS date) IS NULL OR tracklist.set_date <= CAST(:end AS date))
),
page AS (
    SELECT filtered.id, filtered.best, found.score
    FROM filtered JOIN found ON found.rank = filtered.best
    ORDER BY found.score DESC, filtered.set_date DESC NULLS LAST, filtered.id
    LIMIT :limit OFFSET :offset
)
SELECT
    total.count AS total, tracklist.id, tracklist.url, tracklist.title, tracklist.set_date,
    tracklist.genres, tracklist.track_count, tracklist.status, page.best,
    (
        SELECT json_agg(json_build_array(dj.name, dj.slug, dj.url) ORDER BY credit.position)
        FROM tracklist_djs AS credit JOIN djs AS dj ON dj.id = credit.dj_id
        WHERE credit.tracklist_id = tracklist.id
    ) AS djs,
    (
        SELECT json_agg(
            json_build_array(source.name, source.slug, source.url) ORDER BY credit.position
        )
        FROM tracklist_sources AS credit JOIN sources AS source ON source.id = credit.source_id
        WHERE credit.tracklist_id = tracklist.id
    ) AS sources
FROM (SELECT count(*) AS count FROM filtered) AS total
LEFT JOIN (page JOIN tracklists AS tracklist ON tracklist.id = page.id) ON true
ORDER BY page.score DESC, tracklist.set_date DESC NULLS LAST, tracklist.id
"""
_PAGE_STATEMENTS = {
    search_type: text(_PAGE.format(link=link.__tablename__, column=column.key))
    for search_type, (link, column) in _LINKS.items()
}


class _Window(NamedTuple):
    """Which results: sets dated within ``start``..``end`` (either open), and which page."""

    start: date | None
    end: date | None
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ResultPage:
    """One page of results (summary fields, ``score`` and ``matched``) and the total."""

    results: list[dict[str, Any]]
    total: int


def result_page(
    session: Session,
    search_type: str,
    found: list[Candidate],
    *,
    scored: bool,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> ResultPage:
    """The tracklists linked to ``found`` (DJs, sources or tracks by ``search_type``).

    ``found`` is best first, as :func:`service.search.candidates.candidates` returns it: the first
    candidate linked to a tracklist is its best. ``scored=False`` (a slug's list, where
    every candidate scores 1) leaves ``score`` null, which makes the order newest first.
    """
    if not found:
        return ResultPage([], 0)
    window = _Window(start, end, limit, offset)
    if session.get_bind().dialect.name == "postgresql":
        page = _postgres_page(session, search_type, found, window)
    else:
        page = _portable_page(session, search_type, found, window)
    if not scored:
        for result in page.results:
            result["score"] = None
    return page


def _postgres_page(
    session: Session, search_type: str, found: list[Candidate], window: _Window
) -> ResultPage:
    rows = session.execute(
        _PAGE_STATEMENTS[search_type],
        {
            "ids": [candidate.id for candidate in found],
            "scores": [candidate.score for candidate in found],
            **window._asdict(),
        },
    ).all()
    results = [
        {
            **summary_fields(
                row.id,
                row.url,
                row.title,
                row.set_date,
                row.genres,
                row.track_count,
                status=row.status,
                djs=[linked(*credit) for credit in row.djs or ()],
                events=[linked(*credit) for credit in row.sources or ()],
            ),
            "score": found[row.best - 1].score,
            "matched": found[row.best - 1].name,
        }
        for row in rows
        if row.id is not None  # the page is past the end: the one row holds the total only
    ]
    return ResultPage(results, int(rows[0].total))


def _dated(query: _S, start: date | None, end: date | None) -> _S:
    if start is not None:
        query = query.where(Tracklist.set_date >= start)
    if end is not None:
        query = query.where(Tracklist.set_date <= end)
    return query


def _portable_page(
    session: Session, search_type: str, found: list[Candidate], window: _Window
) -> ResultPage:
    """The same page in portable queries: rank, count, then load the page's tracklists."""
    start, end, limit, offset = window
    link, column = _LINKS[search_type]
    score = func.max(case({c.id: c.score for c in found}, value=column, else_=0.0))
    ranked = _dated(
        select(Tracklist.id, score.label("score"))
        .join(link, link.tracklist_id == Tracklist.id)
        .where(column.in_([c.id for c in found]), Tracklist.version > 0)
        .group_by(Tracklist.id, Tracklist.set_date),
        start,
        end,
    )
    total = int(session.scalar(select(func.count()).select_from(ranked.subquery())) or 0)
    ordered = ranked.order_by(score.desc(), Tracklist.set_date.desc().nulls_last(), Tracklist.id)
    page = session.execute(ordered.limit(limit).offset(offset)).all()
    ids = [row[0] for row in page]
    tracklists = {
        tracklist.id: tracklist
        for tracklist in session.scalars(select(Tracklist).where(Tracklist.id.in_(ids)))
    }
    heads = headings(session, ids)
    rank = {candidate.id: position for position, candidate in enumerate(found)}
    best: dict[uuid.UUID, int] = {}
    links = session.execute(
        select(link.tracklist_id, column)
        .where(link.tracklist_id.in_(ids))
        .where(column.in_(list(rank)))
    )
    for tracklist_id, candidate_id in links:
        best[tracklist_id] = min(rank[candidate_id], best.get(tracklist_id, len(found)))
    results = [
        {
            **summary(tracklists[tracklist_id], heads[tracklist_id]),
            "score": float(tracklist_score),
            "matched": found[best[tracklist_id]].name,
        }
        for tracklist_id, tracklist_score in page
    ]
    return ResultPage(results, total)

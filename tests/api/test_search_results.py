"""A page of search results: PostgreSQL's one statement against the portable queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from api_data import Catalogue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.identity import normalize
from service.search import results
from service.search.candidates import Candidate, candidates
from store.models import Dj

WINDOWS = [
    (None, None),
    (date(2019, 1, 1), None),
    (None, date(2020, 1, 10)),
    (date(2020, 1, 3), date(2020, 1, 3)),
]
PAGES = [(7, 0), (7, 7), (100, 0), (7, 1000)]  # (limit, offset); the last is past the end


def _both(
    session: Session, search_type: str, found: list[Candidate], **paging: Any
) -> tuple[results.ResultPage, results.ResultPage]:
    window = results._Window(**paging)
    return (
        results._postgres_page(session, search_type, found, window),
        results._portable_page(session, search_type, found, window),
    )


@pytest.mark.parametrize(
    ("search_type", "query"),
    [
        ("dj", "carl cox"),
        ("dj", "pager person"),
        ("event", "time warp"),
        ("track", "revolution continues"),
    ],
)
def test_one_statement_answers_as_the_portable_queries(
    store_sessions: sessionmaker[Session], catalogue: Catalogue, search_type: str, query: str
) -> None:
    with store_sessions() as session:
        found = candidates(session, search_type, normalize(f"{query} {catalogue.token}"))
        found = found or candidates(session, search_type, normalize(query))
        assert found
        for start, end in WINDOWS:
            for limit, offset in PAGES:
                one, portable = _both(
                    session, search_type, found, start=start, end=end, limit=limit, offset=offset
                )
                assert one == portable, (start, end, limit, offset)
                assert len(one.results) == max(0, min(limit, one.total - offset))


def test_each_tracklist_ranks_and_shows_its_best_candidate(
    store_sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    token = catalogue.token
    with store_sessions() as session:
        ids = dict(
            session.execute(
                select(Dj.slug, Dj.id).where(Dj.slug.in_([f"carlcox{token}", f"adambeyer{token}"]))
            ).all()
        )
        found = [
            Candidate(ids[f"adambeyer{token}"], "Adam Beyer", 0.9),
            Candidate(ids[f"carlcox{token}"], "Carl Cox", 0.5),
        ]
        for page in _both(session, "dj", found, start=None, end=None, limit=10, offset=0):
            shown = [(row["title"], row["score"], row["matched"]) for row in page.results]
            assert shown == [
                ("Carl Cox & Adam Beyer @ Awakenings Festival 2019-06-29", 0.9, "Adam Beyer"),
                ("Carl Cox @ Time Warp 2024-04-06", 0.5, "Carl Cox"),
                ("Carl Cox @ Space Ibiza 2016-09-01", 0.5, "Carl Cox"),
            ]
            assert page.results[0]["dj_name"] == "Carl Cox & Adam Beyer"
            assert page.results[0]["event_name"] == "Awakenings Festival"
            assert page.total == len(shown)


def test_unscored_lists_and_no_candidates(
    store_sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    with store_sessions() as session:
        cox = session.scalar(select(Dj.id).where(Dj.slug == f"carlcox{catalogue.token}"))
        assert cox is not None
        page = results.result_page(
            session,
            "dj",
            [Candidate(cox, "Carl Cox", 1.0)],
            scored=False,
            start=None,
            end=None,
            limit=10,
            offset=0,
        )
        assert [row["score"] for row in page.results] == [None, None, None]
        assert [row["date"] for row in page.results] == [
            date(2024, 4, 6),
            date(2019, 6, 29),
            date(2016, 9, 1),
        ]
        nothing = results.result_page(
            session, "dj", [], scored=True, start=None, end=None, limit=10, offset=0
        )
        assert nothing == results.ResultPage([], 0)

"""Who played what, on both backends: the queries of store.plays and the SQL views."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from store import plays
from store.db import make_session_factory
from store.models import Track

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "messaging"))
from consumer_support import entry, store_page, tracklist_page

VIEWS = ("track_plays", "dj_track_plays", "track_play_stats")
COX, BEYER, VATH = ("Carl Cox", "carlcox"), ("Adam Beyer", "adambeyer"), ("Sven Väth", "svenvath")


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    factory = make_session_factory(migrated_engine)
    one, two, three, four = (
        entry(1, "A", "One", 0),
        entry(2, "B", "Two", 1000),
        entry(3, "C", "Three", 2000),
        entry(4, "D", "Four", 3000),
    )
    unknown = dataclasses.replace(entry(5, "ID", "ID", None), is_id=True)
    again = entry(3, "A", "One", 5000)
    store_page(factory, tracklist_page("s1", [COX], "2024-01-01", (one, two, again)))
    store_page(factory, tracklist_page("s2", [COX, BEYER], "2023-05-05", (one, three)))
    store_page(factory, tracklist_page("s3", [BEYER], None, (two, three)))
    store_page(factory, tracklist_page("s4", [VATH], "2022-01-01", (four, unknown)))
    return factory


def _track(session: Session, title: str) -> int:
    return session.scalars(select(Track.id).where(Track.title == title)).one()


def test_every_play_of_a_track_with_its_count_and_first_play(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        found = plays.track_plays(session, _track(session, "One"), limit=10, offset=0)
    assert found is not None
    assert (found.track.artist, found.track.title) == ("A", "One")
    assert (found.play_count, found.set_count) == (3, 2)
    assert found.first_play is not None
    assert str(found.first_play.set_date) == "2023-05-05"
    assert [dj.slug for dj in found.first_play.djs] == ["carlcox", "adambeyer"]
    assert [(str(p.set_date), p.row, p.position) for p in found.plays] == [
        ("2024-01-01", 1, 1),
        ("2024-01-01", 3, 3),
        ("2023-05-05", 1, 1),
    ]
    assert found.plays[0].tracklist_url.endswith("/tracklist/s1/s1-set.html")


def test_plays_are_paged_and_undated_sets_come_last(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        two = _track(session, "Two")
        first = plays.track_plays(session, two, limit=1, offset=0)
        second = plays.track_plays(session, two, limit=1, offset=1)
        assert plays.track_plays(session, 999_999, limit=1, offset=0) is None
    assert first is not None
    assert second is not None
    assert [str(p.set_date) for p in first.plays + second.plays] == ["2024-01-01", "None"]
    assert first.first_play is not None
    assert str(first.first_play.set_date) == "2024-01-01"


def test_a_djs_most_played_tracks(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        found = plays.dj_top_tracks(session, "carlcox", limit=10)
        assert plays.dj_top_tracks(session, "nobody", limit=10) is None
        assert plays.dj_top_tracks(session, "svenvath", limit=10) is not None
    assert found is not None
    dj, tracks = found
    assert (dj.slug, dj.name) == ("carlcox", "Carl Cox")
    # Ties (one play in one set) in catalogue order.
    assert [(t.track.title, t.plays, t.sets) for t in tracks] == [
        ("One", 3, 2),
        ("Two", 1, 1),
        ("Three", 1, 1),
    ]
    assert str(tracks[0].last_played) == "2024-01-01"


def test_tracks_two_djs_share(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        found = plays.shared_tracks(session, "carlcox", "adambeyer", limit=2, offset=0)
        rest = plays.shared_tracks(session, "carlcox", "adambeyer", limit=2, offset=2)
        none = plays.shared_tracks(session, "carlcox", "svenvath", limit=10, offset=0)
        assert plays.shared_tracks(session, "carlcox", "nobody", limit=1, offset=0) is None
    assert found is not None
    assert rest is not None
    assert none is not None
    dj_a, dj_b, total, tracks = found
    assert (dj_a.slug, dj_b.slug, total) == ("carlcox", "adambeyer", 3)
    # The b2b set counts for both of them.
    assert [(t.track.title, t.plays_a, t.plays_b) for t in tracks + rest[3]] == [
        ("One", 3, 1),
        ("Three", 1, 2),
        ("Two", 1, 1),
    ]
    assert (none[2], none[3]) == (0, [])


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_exists_and_answers(migrated_engine: Engine, view: str) -> None:
    with migrated_engine.connect() as connection:
        connection.execute(text(f"SELECT * FROM {view}")).all()  # empty but queryable


def test_the_views_agree_with_the_queries(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        one = _track(session, "One")
        stats = session.execute(
            text(
                "SELECT play_count, set_count, first_played, last_played "
                "FROM track_play_stats WHERE track_id = :id"
            ),
            {"id": one},
        ).one()
        assert (stats[0], stats[1], str(stats[2]), str(stats[3])) == (
            3,
            2,
            "2023-05-05",
            "2024-01-01",
        )
        assert (
            session.scalar(
                text("SELECT count(*) FROM track_plays WHERE track_id = :id"), {"id": one}
            )
            == 3
        )
        by_dj = session.execute(
            text(
                "SELECT dj_slug, count(*) FROM dj_track_plays WHERE track_id = :id "
                "GROUP BY dj_slug ORDER BY dj_slug"
            ),
            {"id": one},
        ).all()
        assert [tuple(row) for row in by_dj] == [("adambeyer", 1), ("carlcox", 3)]
        # ID rows are plays of nothing.
        assert session.scalar(text("SELECT count(*) FROM track_plays")) == 8


def test_the_views_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "schema.md").read_text()
    views = doc.split("\n## Views\n", 1)[1].split("\n## ", 1)[0]
    for view in VIEWS:
        assert f"### `{view}`" in views, f"docs/schema.md: no section for view {view}"


def test_popular_tracks_walk_sets_by_date_with_the_same_answer(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        for title in ("One", "Two", "Three"):
            track = _track(session, title)
            for offset in range(4):
                usual = plays.track_plays(session, track, limit=1, offset=offset)
                walked = plays.track_plays(session, track, limit=1, offset=offset, popular_sets=1)
                assert walked == usual, (title, offset)

"""Migration 0008 on PostgreSQL: the words of catalogue tracks, kept by a trigger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from store import migrate
from store.db import make_engine
from store.models import Track


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _track(key: str, artist: str, title: str) -> Track:
    return Track(
        track_key=key, artist=artist, title=title, artist_normalized=artist, title_normalized=title
    )


def _vocabulary(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT word FROM track_words ORDER BY word")))


def test_words_split_at_spaces_joiners_and_brackets(engine: Engine) -> None:
    with engine.connect() as connection:
        words = connection.scalar(
            select(func.tracklists_words("carl cox & adam beyer the (original) mix  mix"))
        )
    assert words == ["adam", "beyer", "carl", "cox", "mix", "original", "the"]


def test_new_and_renamed_tracks_add_their_words_once(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                _track("a", "carl cox", "the revolution continues"),
                _track("b", "carl cox", "phat (remix)"),
            ]
        )
    assert _vocabulary(engine) == ["carl", "continues", "cox", "phat", "remix", "revolution", "the"]
    with Session(engine) as session, session.begin():
        session.execute(update(Track).where(Track.track_key == "b").values(title_normalized="dr"))
    assert "dr" in _vocabulary(engine)


def test_words_of_tracks_stored_before_the_migration_are_backfilled(engine: Engine) -> None:
    migrate.downgrade(engine, "0007")
    with Session(engine) as session, session.begin():
        session.add(_track("old", "sven vath", "l esperanza"))
    migrate.upgrade(engine)
    assert _vocabulary(engine) == ["esperanza", "l", "sven", "vath"]


def test_the_words_index_answers_the_search_expression(engine: Engine) -> None:
    expression = "tracklists_words(tracks.artist_normalized || ' ' || tracks.title_normalized)"
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            connection.scalars(
                text(f"EXPLAIN SELECT id FROM tracks WHERE {expression} && ARRAY['cox']")
            )
        )
    assert "ix_tracks_words" in plan
    with engine.connect() as connection:
        options = connection.scalar(
            text("SELECT reloptions FROM pg_class WHERE relname = 'ix_tracks_words'")
        )
    assert options == ["fastupdate=off"]  # no pending list for every search to read

"""Track candidates by words: close spellings are scored first when a word is common."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.search import track_words
from service.search.candidates import prepare_search
from store import migrate
from store.db import make_engine
from store.models import Track


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    prepare_search(engine)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _store(engine: Engine, names: list[tuple[str, str]]) -> None:
    """Tracks in this order (the order a heap scan meets them)."""
    with Session(engine) as session, session.begin():
        session.add_all(
            Track(
                track_key=f"{artist}|{title}",
                artist=artist.title(),
                title=title.title(),
                artist_normalized=artist,
                title_normalized=title,
            )
            for artist, title in names
        )


def _names(engine: Engine, query: str) -> list[str]:
    with Session(engine) as session:
        return [name for _id, name, _score in track_words.track_candidates(session, query, 50)]


def test_a_common_word_reaches_its_exact_spelling_first(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "stroke" (0.4) and "strobelight" (0.46) resemble "strobe"; "strobes" (0.67) is close.
    far = [(f"artist{n}", word) for n in range(20) for word in ("stroke", "strobelight")]
    _store(engine, [*far, ("kink", "strobe"), ("kink", "strobes"), ("deadmau5", "strobe")])
    monkeypatch.setattr(track_words, "MAX_WORD_MATCHES", 5)
    found = _names(engine, "strobe")
    assert found[:2] == ["Deadmau5 - Strobe", "Kink - Strobe"]
    assert "Kink - Strobes" in found
    assert len(found) == 5  # the room left went to the farther spellings


def test_farther_spellings_fill_the_room_left_without_duplicates(engine: Engine) -> None:
    _store(engine, [("kink", "strobe"), ("artist", "stroke"), ("artist", "strobelight")])
    found = _names(engine, "strobe")
    assert found[0] == "Kink - Strobe"
    assert sorted(found) == ["Artist - Strobelight", "Artist - Stroke", "Kink - Strobe"]


def test_every_word_needs_a_spelling(engine: Engine) -> None:
    _store(engine, [("carl cox", "the revolution continues"), ("carl craig", "at les")])
    assert _names(engine, "carl cox revolution") == ["Carl Cox - The Revolution Continues"]
    assert _names(engine, "carl coxx revolutin") == ["Carl Cox - The Revolution Continues"]
    assert _names(engine, "carl zzqqxx") == []
    # A one- or two-letter word that starts no word is a typo too short to place: ignored.
    assert _names(engine, "revolution qz") == ["Carl Cox - The Revolution Continues"]

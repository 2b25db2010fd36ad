"""The catalogue key maps the same track, spelled differently, to one key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity import normalize, track_key


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Sven Väth", "Komm", None), ("SVEN VATH", "komm", None)),
        (
            ("Max Styler & Clüb De Combat", "On Repeat", None),
            ("Max Styler and Club de Combat", "On Repeat", None),
        ),
        (
            ("Matroda ft. MERYLL", "No Sleep (6AM)", None),
            ("Matroda feat. Meryll", "No Sleep ( 6AM )", None),
        ),
        (
            ("Matroda featuring MERYLL", "No Sleep [6AM]", None),
            ("Matroda Ft MERYLL", "No Sleep (6AM)", None),
        ),
        (
            ("Curbi & Tchami ft. Kyan Palmer", "Make Amends", None),
            ("Tchami & Curbi feat. Kyan Palmer", "Make Amends", None),
        ),
        (("Len Faki", "Temple", "Ø [Phase] Remix"), ("Len Faki", "Temple", "O (Phase) Remix")),
        (("Max Styler", "Let Em' Know", None), ("Max Styler", "Let Em’ Know", None)),
        (('"XY"', "La Fiesta", None), ("XY", "La Fiesta", None)),
        (("Deetron", "Runnin'", "Original Mix"), ("Deetron", "Runnin", None)),
        (("A + B", "Song", ""), ("B & A", "song", "original")),
    ],
)
def test_same_track_same_key(
    one: tuple[str, str, str | None], other: tuple[str, str, str | None]
) -> None:
    assert track_key(*one) == track_key(*other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Sven Väth", "Komm", None), ("Sven Väth", "Komm", "Robert Hood Remix")),
        (("Psycho Boys Club vs. Riton", "X", None), ("Riton vs. Psycho Boys Club", "X", None)),
        (("Max Styler", "ID", None), ("Max Styler", "I.D. Love", None)),
        (("A ft. B", "Song", None), ("B ft. A", "Song", None)),
    ],
)
def test_different_tracks_differ(
    one: tuple[str, str, str | None], other: tuple[str, str, str | None]
) -> None:
    assert track_key(*one) != track_key(*other)


def test_key_layout() -> None:
    assert track_key("Felix Da Housecat ft. Miss Kittin", "Silver Screen", "Private Mix") == (
        "felix da housecat ft miss kittin|silver screen|private mix"
    )


@given(st.text(), st.text(), st.none() | st.text())
def test_any_text_gives_a_three_part_key(artist: str, title: str, version: str | None) -> None:
    key = track_key(artist, title, version)
    assert key.count("|") == 2
    assert key == key.casefold()


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once

"""Planning: DJ data (missing cues, "w/" rows, IDs, equal and out-of-order cues) to tracks."""

from __future__ import annotations

import pytest
from cue_support import row, tracklist

from cue import EmptyTracklistError, Entry, plan
from cue.defaults import FALLBACK_TRACK_MS
from cue.timing import ms_to_frames

_set = tracklist
_row = row


def _messages(result_notices: tuple[object, ...]) -> list[str]:
    return [str(notice) for notice in result_notices]


def test_known_cues_become_frame_starts() -> None:
    result = plan(_set(_row(1, 0), _row(2, 227), _row(3, 398.5)))
    assert [track.start_frame for track in result.tracks] == [0, 227 * 75, 398 * 75 + 37]
    assert [track.start_ms for track in result.tracks] == [0, 227_000, 398_500]
    assert result.notices == ()


def test_opening_track_always_starts_at_zero() -> None:
    result = plan(_set(_row(1, None), _row(2, 60)))
    assert result.tracks[0].start_frame == 0
    assert "row 1: no cue on the opening track: it starts at 0:00" in _messages(result.notices)
    late = plan(_set(_row(1, 7), _row(2, 60)))
    assert late.tracks[0].start_ms == 0
    assert "row 1: opening cue 0:07 moved to 0:00" in _messages(late.notices)


def test_fold_joins_cueless_rows_to_the_previous_track() -> None:
    result = plan(_set(_row(1, 0), _row(2, None), _row(3, None), _row(4, 300)))
    assert len(result.tracks) == 2
    assert result.tracks[0].title == "Title 1 / Artist 2 - Title 2 / Artist 3 - Title 3"
    assert result.tracks[0].rows == (1, 2, 3)
    assert "rows 2, 3: no cue: folded into the track of row 1" in _messages(result.notices)


def test_drop_leaves_cueless_rows_out_and_says_which() -> None:
    result = plan(_set(_row(1, 0), _row(2, None), _row(3, 300)), missing_cue="drop")
    assert [track.rows for track in result.tracks] == [(1,), (3,)]
    assert "row 2: no cue: left out" in _messages(result.notices)


def test_estimate_spreads_rows_between_known_cues() -> None:
    result = plan(
        _set(_row(1, 0), _row(2, None), _row(3, None), _row(4, 300)), missing_cue="estimate"
    )
    assert [track.start_frame for track in result.tracks] == [0, 100 * 75, 200 * 75, 300 * 75]
    assert [track.estimated for track in result.tracks] == [False, True, True, False]
    assert "rows 2, 3: no cue: start estimated" in _messages(result.notices)


def test_estimate_after_the_last_cue_uses_the_duration_or_a_fallback() -> None:
    rows = (_row(1, 0), _row(2, 60), _row(3, None))
    with_length = plan(_set(*rows), missing_cue="estimate", duration_ms=180_000)
    assert with_length.tracks[-1].start_ms == 120_000
    without = plan(_set(*rows), missing_cue="estimate")
    assert without.tracks[-1].start_frame == ms_to_frames(60_000 + FALLBACK_TRACK_MS)
    assert any("set length unknown" in message for message in _messages(without.notices))


def test_estimate_folds_rows_that_cannot_get_a_distinct_frame() -> None:
    # Row 3 starts one frame after row 1: no room for row 2 between them.
    result = plan(_set(_row(1, 0), _row(2, None), _row(3, 0.014)), missing_cue="estimate")
    assert [(track.start_frame, track.rows) for track in result.tracks] == [(0, (1, 2)), (1, (3,))]
    assert "row 2: no cue: folded into the track of row 1" in _messages(result.notices)


def test_with_rows_share_the_previous_start() -> None:
    entries = (_row(1, 0), _row(2, 100), _row(3, 4650, played_with_previous=True), _row(4, 200))
    result = plan(_set(*entries))
    assert result.tracks[1].title == "Title 2 w/ Artist 3 - Title 3"
    assert result.tracks[1].rows == (2, 3)
    assert [track.start_ms for track in result.tracks] == [0, 100_000, 200_000]


def test_a_leading_with_row_is_an_ordinary_row() -> None:
    result = plan(_set(_row(1, 0, played_with_previous=True), _row(2, 10)))
    assert len(result.tracks) == 2


def test_equal_starts_after_frame_rounding_are_merged() -> None:
    # 10.000 s and 10.010 s floor to the same frame (750): one track, reported.
    result = plan(_set(_row(1, 0), _row(2, 10), _row(3, 10.01), _row(4, 20)))
    assert [track.start_frame for track in result.tracks] == [0, 750, 1500]
    assert result.tracks[1].rows == (2, 3)
    assert "row 3: starts on the same frame as row 2: merged into it" in _messages(result.notices)


def test_out_of_order_cues_are_treated_as_missing() -> None:
    result = plan(_set(_row(1, 0), _row(2, 300), _row(3, 200), _row(4, 400)))
    assert [track.start_ms for track in result.tracks] == [0, 300_000, 400_000]
    assert "row 3: cue 3:20 is not after the previous cue: ignored" in _messages(result.notices)
    assert result.tracks[1].rows == (2, 3)


def test_id_tracks_are_kept_and_reported() -> None:
    entries = (_row(1, 0), Entry(2, "ID", "ID", 60_000, is_id=True))
    result = plan(_set(*entries))
    assert result.tracks[1].display == "ID - ID"
    assert result.tracks[1].is_id
    assert "row 2: unidentified track (ID), kept as the site shows it" in _messages(result.notices)


def test_an_empty_tracklist_is_an_error() -> None:
    with pytest.raises(EmptyTracklistError):
        plan(_set())


def test_negative_cues_are_treated_as_missing() -> None:
    result = plan(_set(_row(1, 0), Entry(2, "A", "B", -5000), _row(3, 60)))
    assert [track.rows for track in result.tracks] == [(1, 2), (3,)]
    assert "row 2: negative cue -5000 ms ignored" in _messages(result.notices)

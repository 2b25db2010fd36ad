"""What we emit: the standard sheet, the variants, and each broken case of cue-notes.md."""

from __future__ import annotations

import pytest
from cue_support import evenly, row, tracklist

from cue import (
    Entry,
    Options,
    ProfileError,
    SetTooLongError,
    TooManyTracksError,
    UnknownFormatError,
    export,
    parse,
    validate,
)
from cue.errors import EmptyTracklistError

EXPECTED_STANDARD = """\
REM GENRE "Techno, House"
REM DATE 2024-10-25
REM COMMENT https://www.1001tracklists.com/tracklist/x/set.html
PERFORMER "DJ One & DJ Two"
TITLE "DJ One @ Club 2024-10-25"
FILE "set.flac" WAVE
  TRACK 01 AUDIO
    TITLE "Title 1"
    PERFORMER "Artist 1"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "Title 2 (Club Mix)"
    PERFORMER "Artist 2"
    INDEX 01 03:47:37
"""


def _standard(**kwargs: object) -> str:
    tracks = tracklist(
        row(1, 0),
        row(2, 227.5, version="Club Mix"),
        djs=("DJ One", "DJ Two"),
        genres=("Techno", "House"),
        url="https://www.1001tracklists.com/tracklist/x/set.html",
    )
    return export(tracks, "standard", Options(audio_name="/music/set.flac", **kwargs)).documents[0]  # type: ignore[arg-type]


def test_standard_sheet_exactly() -> None:
    assert _standard() == EXPECTED_STANDARD


@pytest.mark.parametrize(
    ("audio", "file_line"),
    [
        ("set.mp3", 'FILE "set.mp3" MP3'),
        ("set.flac", 'FILE "set.flac" WAVE'),
        ("set.aiff", 'FILE "set.aiff" AIFF'),
        ("set.opus", 'FILE "set.opus" WAVE'),
        ("C:/Music/set.wav", 'FILE "set.wav" WAVE'),
    ],
)
def test_file_line_matches_the_audio_file(audio: str, file_line: str) -> None:
    text = export(evenly(2, 60), "standard", Options(audio_name=audio)).documents[0]
    assert file_line in text.splitlines()


def test_unknown_audio_extension_is_declared_wave_and_reported() -> None:
    result = export(evenly(2, 60), "standard", Options(audio_name="set.xyz"))
    assert 'FILE "set.xyz" WAVE' in result.documents[0]
    assert any("unknown audio type '.xyz'" in str(notice) for notice in result.notices)


def test_frames_never_reach_75() -> None:
    # 59.999 s is 4499.925 frames: floored to 59 s 74 f, never "00:59:75" or "01:00:75".
    text = export(tracklist(row(1, 0), Entry(2, "A", "B", 59_999)), "standard").documents[0]
    assert "INDEX 01 00:59:74" in text
    assert ":75" not in text


def test_equal_starts_become_one_track() -> None:
    result = export(tracklist(row(1, 0), row(2, 30), row(3, 30), row(4, 60)), "standard")
    sheet = result.sheets[0]
    assert [track.title for track in sheet.tracks()] == [
        "Title 1",
        "Title 2 / Artist 3 - Title 3",
        "Title 4",
    ]
    assert validate(sheet) == []


def test_track_100_is_an_error_by_default() -> None:
    with pytest.raises(TooManyTracksError, match="100 tracks: a CUE sheet holds 99"):
        export(evenly(100, 30), "standard")


def test_track_100_splits_into_sheets_when_asked() -> None:
    result = export(evenly(100, 30), "standard", Options(too_many_tracks="split"))
    assert len(result.documents) == 2
    first, second = result.sheets
    assert len(first.tracks()) == 99
    assert len(second.tracks()) == 1
    assert second.files[0].name == "mix.disc2.wav"
    assert second.tracks()[0].start() == 0
    assert any(rem.key == "DISCNUMBER" and rem.value == "2" for rem in second.rems)
    assert all(validate(sheet) == [] for sheet in result.sheets)
    assert any(
        "split into 2 sheets: cut the audio at 49:30" in str(notice) for notice in result.notices
    )


def test_over_99_minutes_warns_in_standard() -> None:
    result = export(evenly(3, 3000), "standard")
    assert "INDEX 01 100:00:00" in result.documents[0]
    assert any("past 99:59:74" in str(notice) for notice in result.notices)
    problems = validate(result.sheets[0])
    assert [problem.severity for problem in problems] == ["warning"]


def test_over_99_minutes_is_an_error_in_the_cd_profile() -> None:
    with pytest.raises(SetTooLongError, match="1:40:00 is past 99:59:74"):
        export(evenly(3, 3000), "cd")


def test_over_99_minutes_splits_into_file_blocks_when_asked() -> None:
    result = export(evenly(4, 3000), "cd", Options(long_set="split", audio_name="set.wav"))
    sheet = result.sheets[0]
    assert [cue_file.name for cue_file in sheet.files] == ["set.part1.wav", "set.part2.wav"]
    assert [track.number for track in sheet.tracks()] == [1, 2, 3, 4]
    assert [track.start() for track in sheet.files[1].tracks] == [0, 3000 * 75]
    assert validate(sheet, strict=True) == []
    assert any("cut the audio at 1:40:00" in str(notice) for notice in result.notices)


def test_quotes_inside_values_are_made_safe() -> None:
    entry = Entry(1, '"XY"', 'Say "Hi"', 0)
    text = export(tracklist(entry, title='The "Best" Set'), "standard").documents[0]
    assert "TITLE \"Say 'Hi'\"" in text
    assert "PERFORMER \"'XY'\"" in text
    assert parse(text).problems == []


def test_control_characters_are_made_safe() -> None:
    text = export(tracklist(Entry(1, "A\nB", "C\tD", 0)), "standard").documents[0]
    assert 'PERFORMER "A B"' in text
    assert parse(text).problems == []


def test_no_bom_by_default_and_one_when_asked() -> None:
    assert not _standard().startswith("\ufeff")
    with_bom = _standard(bom=True)
    assert with_bom.startswith("\ufeff")
    assert with_bom[1:] == EXPECTED_STANDARD


def test_bom_is_refused_in_the_cd_profiles() -> None:
    for name in ("cd", "cdj"):
        with pytest.raises(ProfileError, match="byte order mark"):
            export(evenly(2, 60), name, Options(bom=True))


def test_cd_profile_cuts_strings_to_80_bytes() -> None:
    long_title = "Ä" * 60  # 120 bytes in UTF-8
    result = export(tracklist(Entry(1, "A", long_title, 0)), "cd")
    track = result.sheets[0].tracks()[0]
    assert track.title is not None
    assert len(track.title.encode()) <= 80
    assert track.title.endswith("…")
    assert validate(result.sheets[0], strict=True) == []
    assert any("track TITLE cut to 80 bytes" in str(notice) for notice in result.notices)


def test_cdj_is_ascii() -> None:
    entries = (Entry(1, "Sven Väth", "Ø [Phase] Straße", 0), Entry(2, "Âme", "Asa", 60_000))
    text = export(tracklist(*entries, djs=("Sven Väth",)), "cdj").documents[0]
    assert text.isascii()
    assert 'PERFORMER "Sven Vath"' in text
    assert 'TITLE "O [Phase] Strasse"' in text


def test_kodi_writes_a_year_and_its_separator() -> None:
    tracks = tracklist(row(1, 0), djs=("A", "B"), genres=("House", "Tech House"))
    text = export(tracks, "kodi", Options(audio_name="/x/y/set.flac")).documents[0]
    assert "REM DATE 2024" in text.splitlines()
    assert 'REM GENRE "House / Tech House"' in text
    assert 'PERFORMER "A / B"' in text
    assert 'FILE "set.flac" WAVE' in text
    assert max(len(line.encode()) for line in text.splitlines()) <= 1023


def test_serato_titles_carry_the_artist_and_no_rem() -> None:
    text = export(evenly(2, 60), "serato").documents[0]
    assert "REM" not in text
    assert 'TITLE "Artist 2 - Title 2"' in text


def test_include_pregap_adds_index_00_before_later_tracks() -> None:
    result = export(evenly(3, 60), "standard", Options(include_pregap=True))
    tracks = result.sheets[0].tracks()
    assert [[index.number for index in track.indexes] for track in tracks] == [[1], [0, 1], [0, 1]]
    assert tracks[1].indexes[0].frames == 58 * 75
    assert validate(result.sheets[0]) == []
    assert "INDEX 00" not in export(evenly(3, 60), "standard").documents[0]


def test_unknown_format_and_empty_tracklist_are_errors() -> None:
    with pytest.raises(UnknownFormatError, match="unknown format 'nope'"):
        export(evenly(2, 60), "nope")
    with pytest.raises(EmptyTracklistError):
        export(tracklist(), "standard")


def test_cd_profile_names_a_wav_for_cdrdao() -> None:
    result = export(evenly(2, 60), "cd", Options(audio_name="/music/set.mp3"))
    assert 'FILE "set.wav" WAVE' in result.documents[0]
    assert "cdrdao burns WAV: the sheet names set.wav; convert set.mp3" in map(str, result.notices)


def test_cd_profile_cannot_merely_warn_about_long_sets() -> None:
    with pytest.raises(SetTooLongError):
        export(evenly(3, 3000), "cd", Options(long_set="warn"))


def test_backslashes_cannot_escape_the_closing_quote() -> None:
    # libcue reads \" as an escaped quote: "ID - \" would swallow the following lines.
    text = export(tracklist(Entry(1, "A\\", "B \\ C\\", 0)), "standard").documents[0]
    assert 'TITLE "B / C/"' in text
    assert 'PERFORMER "A/"' in text
    assert parse(text).problems == []


def test_youtube_lines_follow_its_rules_and_carry_labels() -> None:
    entries = (
        Entry(1, "A", "One", 0, label="TRUESOUL"),
        Entry(2, "B", "Two", 5_000),  # 5 s after One: YouTube needs 10 s
        Entry(3, "C", "Three", 3_600_000),
    )
    result = export(tracklist(*entries), "youtube")
    assert result.documents[0] == "0:00 A - One [TRUESOUL] / B - Two\n1:00:00 C - Three\n"
    messages = list(map(str, result.notices))
    assert "row 2: under 10 s after the previous stamp: merged" in messages
    assert "2 timestamps: YouTube needs 3 for chapters" in messages


def test_ffmetadata_escapes_its_special_characters() -> None:
    text = export(tracklist(Entry(1, "A=B", "C;D#E\\F", 0)), "ffmetadata").documents[0]
    assert "title=A\\=B - C\\;D\\#E\\\\F" in text.splitlines()
    assert text.startswith(";FFMETADATA1\n")


def test_webvtt_escapes_markup() -> None:
    text = export(tracklist(Entry(1, "A & B", "<C> --> D", 0)), "webvtt").documents[0]
    assert "A &amp; B - &lt;C&gt; --&gt; D" in text.splitlines()


def test_a_file_name_cue_cannot_hold_is_replaced_and_reported() -> None:
    result = export(evenly(2, 60), "standard", Options(audio_name='/m/"live".flac'))
    assert "FILE \"'live'.flac\" WAVE" in result.documents[0]
    assert "rename '\"live\".flac': the sheet names \"'live'.flac\"" in map(str, result.notices)

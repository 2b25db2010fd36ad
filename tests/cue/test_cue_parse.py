"""The parser and validator: any tool's sheet in, model and located problems out."""

from __future__ import annotations

from pathlib import Path

import pytest
from cue_support import REAL_TRACKLISTS, load_real

from cue import Options, Problem, decode, export, parse, render, validate
from cue.variants import VARIANTS


def _problems(text: str, *, strict: bool = False) -> list[tuple[str, int | None, str]]:
    return [(p.severity, p.line, p.message) for p in parse(text, strict=strict).problems]


def _sheet(*tracks: str, header: str = 'FILE "mix.wav" WAVE') -> str:
    body = [header]
    for number, time in enumerate(tracks, start=1):
        body += [f"  TRACK {number:02d} AUDIO", f'    TITLE "T{number}"', f"    INDEX 01 {time}"]
    return "\n".join(body) + "\n"


def test_frames_75_is_an_error_at_its_line() -> None:
    assert _problems(_sheet("00:00:00", "01:00:75")) == [
        ("error", 7, "INDEX: frame 75 must be below 75")
    ]


def test_seconds_60_is_an_error() -> None:
    assert ("error", 7, "INDEX: seconds 60 must be below 60") in _problems(
        _sheet("00:00:00", "01:60:00")
    )


def test_equal_starts_are_an_error() -> None:
    assert _problems(_sheet("00:00:00", "01:00:00", "01:00:00")) == [
        ("error", 10, "INDEX 01:00:00 equals the previous index")
    ]


def test_out_of_order_starts_are_an_error() -> None:
    assert _problems(_sheet("00:00:00", "02:00:00", "01:00:00")) == [
        ("error", 10, "INDEX 01:00:00 is before the previous index")
    ]


def test_track_100_is_an_error() -> None:
    times = [f"{n:02d}:00:00" for n in range(100)]
    problems = _problems(_sheet(*times))
    assert problems == [("error", 299, "track 100: a CUE sheet holds at most 99 tracks")]


def test_minutes_over_99_warn_or_fail_strictly() -> None:
    text = _sheet("00:00:00", "100:00:00")
    message = "INDEX 100:00:00 is past 99:59:74: cdrdao and newer libcue reject minutes above 99"
    assert _problems(text) == [("warning", 7, message)]
    assert _problems(text, strict=True) == [("error", 7, message)]


def test_stray_quotes_are_errors() -> None:
    text = _sheet("00:00:00").replace('TITLE "T1"', 'TITLE "Say "Hi" now"')
    assert ("error", 3, "text right after a closing quote: a stray double quote?") in _problems(
        text
    )
    unterminated = _sheet("00:00:00").replace('TITLE "T1"', 'TITLE "T1')
    assert _problems(unterminated) == [("error", 3, "unterminated quoted string")]


def test_backslash_is_no_escape() -> None:
    # \" does not escape: the backslash stays and the quote ends the string early.
    text = _sheet("00:00:00").replace('TITLE "T1"', 'TITLE "a \\"b\\" c"')
    assert any(severity == "error" and line == 3 for severity, line, _ in _problems(text))


def test_bom_is_a_warning_and_a_strict_error() -> None:
    text = "\ufeff" + _sheet("00:00:00")
    parsed = parse(text)
    assert parsed.sheet.bom
    assert _problems(text) == [
        ("warning", 1, "UTF-8 byte order mark: cdrdao and Debian's libcue reject it")
    ]
    assert ("error", 1, "byte order mark: cdrdao rejects it") in _problems(text, strict=True)
    assert render(parsed.sheet) == text


def test_structure_errors() -> None:
    assert ("error", 2, "TRACK before any FILE") in _problems(
        'TITLE "x"\nTRACK 01 AUDIO\nINDEX 01 00:00:00\n'
    )
    no_index = 'FILE "a.wav" WAVE\n  TRACK 01 AUDIO\n    TITLE "x"\n'
    assert _problems(no_index) == [("error", 2, "track 1 has no INDEX 01")]
    gap = _sheet("00:00:00", "01:00:00").replace("TRACK 02", "TRACK 03")
    assert _problems(gap) == [("error", 5, "track 3 follows track 1")]
    late_start = _sheet("00:00:01")
    assert _problems(late_start) == [("error", 2, "the first index must be 00:00:00")]
    pregap_late = _sheet("00:00:00") + "    PREGAP 00:02:00\n"
    assert ("error", 5, "PREGAP must come before the track's first INDEX") in _problems(pregap_late)
    assert ("warning", 1, "unknown command 'FOO' ignored") in _problems(
        "FOO bar\n" + _sheet("00:00:00")
    )


def test_strict_profile_counts_cd_text_bytes() -> None:
    text = _sheet("00:00:00").replace('TITLE "T1"', f'TITLE "{"é" * 41}"')
    assert _problems(text) == []
    assert _problems(text, strict=True) == [("error", 2, "TITLE is 82 bytes: CD-TEXT holds 80")]


EAC_SHEET = """\
REM GENRE Electronic\r
REM DATE 1999\r
REM DISCID 8A0B7C0B\r
REM COMMENT "ExactAudioCopy v0.99pb5"\r
CATALOG 0724384960650\r
PERFORMER "Various"\r
TITLE "Mix"\r
FILE "Range.wav" WAVE\r
  TRACK 01 AUDIO\r
    TITLE "One"\r
    PERFORMER "A"\r
    ISRC GBAYE9900001\r
    FLAGS DCP\r
    INDEX 01 00:00:00\r
  TRACK 02 AUDIO\r
    TITLE "Two"\r
    PERFORMER "B"\r
    INDEX 00 04:01:50\r
    INDEX 01 04:03:50\r
    POSTGAP 00:02:00\r
"""


def test_reads_another_tools_sheet() -> None:
    parsed = parse(EAC_SHEET)
    assert parsed.problems == []
    sheet = parsed.sheet
    assert sheet.catalog == "0724384960650"
    assert [(rem.key, rem.value) for rem in sheet.rems][3] == ("COMMENT", "ExactAudioCopy v0.99pb5")
    second = sheet.tracks()[1]
    assert [(index.number, index.frames) for index in second.indexes] == [
        (0, (4 * 60 + 1) * 75 + 50),
        (1, (4 * 60 + 3) * 75 + 50),
    ]
    assert sheet.tracks()[0].flags == ["DCP"]
    assert second.postgap == 150
    # Re-rendered with our line ends, the model survives a second trip unchanged.
    assert parse(render(sheet)).sheet == sheet


def test_decode_falls_back_to_windows_1252() -> None:
    text, problems = decode('TITLE "Caf\xe9"\n'.encode("cp1252"))
    assert text == 'TITLE "Café"\n'
    assert [problem.message for problem in problems] == ["not UTF-8: read as Windows-1252"]
    assert decode('TITLE "Café"\n'.encode()) == ('TITLE "Café"\n', [])


def test_problem_text_names_severity_and_line() -> None:
    assert str(Problem("error", "bad", 3)) == "error: line 3: bad"
    assert str(Problem("warning", "meh")) == "warning: meh"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", REAL_TRACKLISTS)
def test_our_sheets_round_trip(real_pages: Path, name: str, variant: str) -> None:
    for missing in ("fold", "estimate", "drop"):
        options = Options(missing_cue=missing, include_pregap=True, long_set="split")
        result = export(load_real(real_pages, name), variant, options)
        for text, sheet in zip(result.documents, result.sheets, strict=True):
            parsed = parse(text, strict=VARIANTS[variant].strict)
            assert parsed.problems == []
            assert parsed.sheet == sheet
            assert render(parsed.sheet) == text
            assert validate(sheet, strict=VARIANTS[variant].strict) == []


def test_a_backslash_before_the_closing_quote_is_an_error() -> None:
    text = _sheet("00:00:00", "01:00:00").replace('TITLE "T1"', 'TITLE "T1\\"')
    assert ("error", 3, 'a backslash before the closing quote: libcue reads \\" as a quote') in (
        _problems(text)
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("  TRACK ² AUDIO", "TRACK: '²' is not a number"),
        ("  TRACK ٣ AUDIO", "TRACK: '٣' is not a number"),
        ("    INDEX ¹ 00:00:00", "INDEX: '¹' is not a number"),
        ("    INDEX 01 ²:00:00", "INDEX: '²:00:00' is not mm:ss:ff"),
        ("    INDEX 01 00:٣٠:00", "INDEX: '00:٣٠:00' is not mm:ss:ff"),
        ("  TRACK " + "9" * 5000 + " AUDIO", "TRACK: a number of 5000 digits is too large"),
        ("    INDEX " + "1" * 5000 + " 00:00:00", "INDEX: a number of 5000 digits is too large"),
        ("    INDEX 01 " + "1" * 5000 + ":00:00", "INDEX: '" + "1" * 40 + "'... is not mm:ss:ff"),
    ],
)
def test_only_ascii_digits_of_bounded_length_are_numbers(line: str, message: str) -> None:
    """str.isdigit() takes "²" and int() then raises; 5,000 digits are beyond int()'s limit."""
    head = 'FILE "mix.wav" WAVE\n  TRACK 01 AUDIO\n' if "INDEX" in line else 'FILE "m.wav" WAVE\n'
    problems = _problems(head + line + "\n    INDEX 01 00:00:00\n")
    assert ("error", 3 if "INDEX" in line else 2, message) in problems


def test_a_catalog_of_unicode_digits_is_an_error() -> None:
    text = "CATALOG " + "²" * 13 + "\n" + _sheet("00:00:00")
    assert ("error", None, "CATALOG must be 13 digits") in _problems(text)

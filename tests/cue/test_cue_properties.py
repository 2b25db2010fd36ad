"""Property tests: any tracklist value gives output our validator and readers accept, or a
documented error. Never a sheet a reader rejects."""

from __future__ import annotations

import itertools
import json
import re
from xml.etree import ElementTree

import m3u8
import pylibcue
import pytest
import webvtt
from cue_readers import PODCAST_SCHEMA, check_cue, vtt_ms
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import validate as validate_json

from cue import (
    FORMATS,
    EmptyTracklistError,
    Entry,
    Export,
    Options,
    ProfileError,
    SetTooLongError,
    TooManyTracksError,
    Tracklist,
    export,
    parse,
    plan,
    render,
)
from cue.defaults import MAX_STRICT_FRAMES
from cue.timing import format_msf, frames_to_ms, ms_to_frames
from cue.variants import VARIANTS

# The errors export documents; anything else escaping is a bug.
DOCUMENTED = (EmptyTracklistError, TooManyTracksError, SetTooLongError, ProfileError)
THREE_HOURS_MS = 3 * 3600 * 1000

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=90)


@st.composite
def entries(draw: st.DrawFn) -> tuple[Entry, ...]:
    count = draw(st.one_of(st.integers(0, 12), st.integers(97, 104)))
    rows = []
    for number in range(1, count + 1):
        rows.append(
            Entry(
                row=number,
                artist=draw(st.one_of(text, st.just("ID"))),
                title=draw(st.one_of(text, st.just("ID"))),
                cue_ms=draw(st.one_of(st.none(), st.integers(-1000, THREE_HOURS_MS))),
                version=draw(st.one_of(st.none(), text)),
                label=draw(st.one_of(st.none(), text)),
                is_id=draw(st.booleans()),
                played_with_previous=draw(st.booleans()),
            )
        )
    return tuple(rows)


tracklists = st.builds(
    Tracklist,
    title=text,
    entries=entries(),
    djs=st.lists(text, max_size=3).map(tuple),
    date=st.one_of(st.none(), st.dates().map(str)),
    genres=st.lists(text, max_size=3).map(tuple),
    url=st.one_of(st.none(), st.just("https://www.1001tracklists.com/tracklist/x/y.html")),
)
options = st.builds(
    Options,
    missing_cue=st.sampled_from(["fold", "estimate", "drop"]),
    duration_ms=st.one_of(st.none(), st.integers(1, THREE_HOURS_MS + 600_000)),
    audio_name=st.one_of(st.none(), st.sampled_from(["a.flac", "/m/b c.mp3", "x.aiff", "y.zz"])),
    include_pregap=st.booleans(),
    bom=st.booleans(),
    long_set=st.sampled_from([None, "warn", "split", "error"]),
    too_many_tracks=st.sampled_from(["error", "split"]),
)


def _check_cue(format_name: str, result: Export) -> None:
    strict = VARIANTS[format_name].strict
    for document, sheet in zip(result.documents, result.sheets, strict=True):
        parsed = parse(document, strict=strict)
        assert parsed.sheet == sheet
        assert render(sheet) == document
        problems = [
            problem for problem in parsed.problems if "past 99:59:74" not in problem.message
        ]
        bom_warning = "UTF-8 byte order mark: cdrdao and Debian's libcue reject it"
        assert [problem.message for problem in problems if problem.message != bom_warning] == []
        assert ":75" not in "".join(re.findall(r"INDEX \d\d (\S+)", document))
        if any((track.start() or 0) > MAX_STRICT_FRAMES for track in sheet.tracks()):
            assert any("past 99:59:74" in str(notice) for notice in result.notices)
            continue
        cd = pylibcue.Cd.from_str(document.removeprefix("\ufeff"))  # libcue: a real reader
        assert [track.start for track in cd] == [
            tuple(int(part) for part in format_msf(track.start() or 0).split(":"))
            for track in sheet.tracks()
        ]


def _check_chapters(format_name: str, document: str, starts: list[int]) -> None:
    if format_name == "podcast":
        data = json.loads(document)
        validate_json(data, PODCAST_SCHEMA)
        assert [round(chapter["startTime"] * 1000) for chapter in data["chapters"]] == starts
    elif format_name == "webvtt":
        captions = webvtt.from_string(document).captions
        assert [vtt_ms(caption.start) for caption in captions] == starts
    elif format_name == "m3u8":
        assert len(m3u8.loads(document).segments) == len(starts)
    elif format_name == "ffmetadata":
        found = [int(start) for start in re.findall(r"^START=(\d+)$", document, re.MULTILINE)]
        assert found == starts
        assert document.count("\n[CHAPTER]\n") == len(starts)
    elif format_name == "youtube":
        stamps = [line.split(" ", 1)[0] for line in document.splitlines()]
        assert stamps[0] == "0:00"
        seconds = [
            sum(int(part) * 60**power for power, part in enumerate(reversed(stamp.split(":"))))
            for stamp in stamps
        ]
        assert all(b - a >= 10 for a, b in itertools.pairwise(seconds))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracklist=tracklists, chosen=options, format_name=st.sampled_from(sorted(FORMATS)))
def test_any_tracklist_gives_valid_output_or_a_documented_error(
    tracklist: Tracklist, chosen: Options, format_name: str
) -> None:
    try:
        result = export(tracklist, format_name, chosen)
    except DOCUMENTED:
        return
    planned = plan(tracklist, missing_cue=chosen.missing_cue, duration_ms=chosen.duration_ms)
    starts = [track.start_ms for track in planned.tracks]
    assert starts[0] == 0
    assert all(a < b for a, b in itertools.pairwise(starts))
    if result.sheets:
        _check_cue(format_name, result)
    elif format_name in ("traktor", "rekordbox"):
        root = ElementTree.fromstring(result.documents[0])  # well-formed XML
        marks = [*root.iter("CUE_V2"), *root.iter("POSITION_MARK")]
        assert len(marks) == len(starts)
    else:
        _check_chapters(format_name, result.documents[0], starts)


@settings(max_examples=25, deadline=None)
@given(tracklist=tracklists)
def test_every_row_is_accounted_for(tracklist: Tracklist) -> None:
    """Rows are kept, merged or reported as left out: never lost silently."""
    try:
        planned = plan(tracklist, missing_cue="drop")
    except EmptyTracklistError:
        assert tracklist.entries == ()
        return
    kept = {row for track in planned.tracks for row in track.rows}
    reported = {row for notice in planned.notices for row in notice.rows}
    assert {entry.row for entry in tracklist.entries} <= kept | reported


@given(ms=st.integers(0, 10 * THREE_HOURS_MS))
def test_frames_are_whole_and_never_75(ms: int) -> None:
    frames = ms_to_frames(ms)
    _minutes, seconds, frame = (int(part) for part in format_msf(frames).split(":"))
    assert frame < 75
    assert seconds < 60
    assert frames_to_ms(frames) <= ms < frames_to_ms(frames + 1)
    assert ms_to_frames(frames_to_ms(frames)) == frames


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    # no shrinking: each step runs the readers again; the failing example is shown as is
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tracklist=tracklists,
    chosen=options,
    format_name=st.sampled_from(sorted(VARIANTS)),
)
def test_real_readers_accept_generated_sheets(
    tmp_path_factory: pytest.TempPathFactory,
    tracklist: Tracklist,
    chosen: Options,
    format_name: str,
) -> None:
    try:
        result = export(tracklist, format_name, chosen)
    except DOCUMENTED:
        return
    strict = VARIANTS[format_name].strict
    for document, sheet in zip(result.documents, result.sheets, strict=True):
        # A BOM is opt-in for Windows tools; the readers here reject it (test_cue_readers).
        check_cue(
            document.removeprefix("\ufeff"),
            sheet,
            tmp_path_factory.mktemp("readers"),
            strict=strict,
        )


# Lines a fuzzed sheet is made of: commands with hostile arguments (digits that are not
# ASCII, numbers past int()'s 4,300-digit limit, stray quotes, control characters).
_hostile_number = st.one_of(
    st.integers(0, 120).map(str),
    st.sampled_from(["²", "¹", "٣", "０１", "-1", "1e3", "", "0" * 12]),
    st.integers(10, 5000).map(lambda digits: "9" * digits),
    st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=4),
)
_hostile_time = st.one_of(
    st.tuples(_hostile_number, _hostile_number, _hostile_number).map(":".join),
    st.sampled_from(["00:00:00", "99:59:74", "1:2", "::", "00:60:75"]),
)
_cue_line = st.one_of(
    st.builds("  TRACK {} {}".format, _hostile_number, st.sampled_from(["AUDIO", "MODE1", ""])),
    st.builds("    INDEX {} {}".format, _hostile_number, _hostile_time),
    st.builds("    {} {}".format, st.sampled_from(["PREGAP", "POSTGAP"]), _hostile_time),
    st.builds('FILE "{}" {}'.format, text, st.sampled_from(["WAVE", "MP3", ""])),
    st.builds("CATALOG {}".format, _hostile_number),
    st.builds("{} {}".format, st.sampled_from(["TITLE", "PERFORMER", "REM", "ISRC"]), text),
    st.text(max_size=40),  # anything at all
    st.text(st.sampled_from('\ud800\udfff\x00 0"INDEX'), max_size=20),  # lone surrogates
)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_cue_line, max_size=12), strict=st.booleans())
def test_parse_never_raises(lines: list[str], strict: bool) -> None:
    """parse is documented never to raise: every defect is a reported problem."""
    sheet = "\n".join(lines)
    parsed = parse(sheet, strict=strict)
    numbers = [track.number for track in parsed.sheet.tracks()]
    numbers += [index.number for track in parsed.sheet.tracks() for index in track.indexes]
    assert all(0 <= number < 10**9 for number in numbers)
    assert all(
        problem.line is None or 1 <= problem.line <= sheet.count("\n") + 1
        for problem in parsed.problems
    )

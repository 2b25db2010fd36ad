"""Run our output through real readers and compare what they read with what we meant.

Each ``check_*`` asserts; a missing binary skips locally and fails in CI (see ``require``).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import m3u8
import pylibcue
import webvtt
from cue_support import CD_BYTES_PER_SECOND, require, run, silent_audio, silent_flac, sparse_wav
from mutagen.mp4 import MP4
from pyrekordbox import RekordboxXml
from traktor_nml_utils import TraktorCollection

from cue import Export, Plan, parse, render
from cue.defaults import FALLBACK_TRACK_MS, MAX_STRICT_FRAMES
from cue.sheet import CueSheet
from cue.timing import frames_to_ms

SAMPLES_PER_FRAME = 588  # 44100 / 75
TAIL_S = FALLBACK_TRACK_MS / 1000  # audio we make runs this far past the last start
WAV_MAX_SECONDS = (2**32 - 64) // CD_BYTES_PER_SECOND  # a RIFF size is 32 bits

# Podcasting 2.0 JSON chapters, from the podcast namespace's jsonChapters.md.
PODCAST_SCHEMA = {
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string"},
        "title": {"type": "string"},
        "author": {"type": "string"},
        "fileName": {"type": "string"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                },
            },
        },
    },
}
_YOUTUBE_LINE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}) (\S.*)$")


def _starts(sheet: CueSheet) -> list[int]:
    return [track.start() or 0 for track in sheet.tracks()]


def _over_99(sheet: CueSheet) -> bool:
    return any(start > MAX_STRICT_FRAMES for start in _starts(sheet))


def _frames(value: str) -> int:
    if ":" not in value:
        return int(value) // SAMPLES_PER_FRAME
    minutes, seconds, frames = (int(part) for part in value.split(":"))
    return (minutes * 60 + seconds) * 75 + frames


def check_metaflac(text: str, sheet: CueSheet, tmp: Path) -> None:
    """metaflac imports the sheet into a 1 s FLAC and gives back the same offsets."""
    metaflac = require("metaflac")
    flac = silent_flac(tmp / "t.flac")
    (tmp / "m.cue").write_text(text, encoding="utf-8")
    result = run(metaflac, f"--import-cuesheet-from={tmp / 'm.cue'}", flac)
    assert result.returncode == 0, result.stderr
    exported = run(metaflac, "--export-cuesheet-to=-", flac).stdout
    # A CD-DA FLAC's cuesheet is printed in mm:ss:ff; compare in frames.
    read = [_frames(value) for value in re.findall(r"INDEX 01 (\S+)", exported)]
    assert read == _starts(sheet)


def check_shnsplit(text: str, sheet: CueSheet, tmp: Path) -> None:
    """shnsplit checks every breakpoint against a WAV of the set's length and splits."""
    shnsplit = require("shnsplit")
    seconds = frames_to_ms(_starts(sheet)[-1]) / 1000 + TAIL_S
    if seconds > WAV_MAX_SECONDS:
        return  # no WAV can hold it: shnsplit cannot be asked
    wav = sparse_wav(tmp / "mix.wav", seconds)
    (tmp / "s.cue").write_text(text, encoding="utf-8")
    out = tmp / "split"
    out.mkdir()
    # Extract the last track only: it proves the last breakpoint and costs 4 minutes of
    # audio on disk whatever the set's length.
    last = str(len(sheet.tracks()))
    result = run(shnsplit, "-q", "-w", "-x", last, "-f", tmp / "s.cue", "-o", "wav", "-d", out, wav)
    if len(sheet.tracks()) == 1:
        assert "no split points" in result.stderr  # one track: nothing to split
        return
    assert result.returncode == 0, result.stderr
    assert [path.name for path in out.iterdir()] == [f"split-track{int(last):02d}.wav"]
    short_s = frames_to_ms(_starts(sheet)[-1]) / 1000 - 1
    if short_s <= 0:
        return
    short = sparse_wav(tmp / "short.wav", short_s)
    refused = run(shnsplit, "-q", "-x", "1", "-f", tmp / "s.cue", "-o", "wav", "-d", out, short)
    assert refused.returncode != 0  # and it does check the length


def check_pylibcue(text: str, sheet: CueSheet) -> None:
    """libcue reads every track with its start, title and performer."""
    cd = pylibcue.Cd.from_str(text)
    assert len(cd) == len(sheet.tracks())
    for read, ours in zip(cd, sheet.tracks(), strict=True):
        start = ours.start() or 0
        if start > MAX_STRICT_FRAMES:
            assert read.start is None  # newer libcue rejects minutes > 99: we warned
            continue
        assert read.start == (start // 4500, start // 75 % 60, start % 75)
        assert read.cdtext.title == ours.title
        assert read.cdtext.performer == ours.performer


def check_cueprint(text: str, tmp: Path) -> None:
    """cuetools print errors on stderr and exit 0: judge by stderr."""
    cueprint = require("cueprint")
    (tmp / "p.cue").write_text(text, encoding="utf-8")
    result = run(cueprint, tmp / "p.cue")
    assert result.returncode == 0
    assert result.stderr == "", result.stderr


def check_cdrdao(text: str, sheet: CueSheet, tmp: Path) -> None:
    """cdrdao (the strict CD profile) reads the sheet against real WAV files."""
    cdrdao = require("cdrdao")
    for cue_file in sheet.files:
        last = cue_file.tracks[-1].start() or 0
        sparse_wav(tmp / cue_file.name, frames_to_ms(last) / 1000 + TAIL_S)
    (tmp / "c.cue").write_text(text, encoding="utf-8")
    result = run(cdrdao, "show-toc", "c.cue", cwd=tmp)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Mode AUDIO") == len(sheet.tracks())


def _per_file(sheet: CueSheet) -> list[CueSheet]:
    """One sheet per FILE block, tracks numbered from 1: what a single-file reader sees."""
    parts = []
    for cue_file in sheet.files:
        tracks = [replace(track, number=number) for number, track in enumerate(cue_file.tracks, 1)]
        parts.append(replace(sheet, files=[replace(cue_file, tracks=tracks)], bom=False))
    return parts


def check_cue(text: str, sheet: CueSheet, tmp: Path, *, strict: bool) -> None:
    """Every CUE reader we have, each in its own folder; single-file readers per FILE."""
    assert parse(text, strict=strict).problems == [] or _over_99(sheet)
    if strict:
        (tmp / "cdrdao").mkdir()
        check_cdrdao(text, sheet, tmp / "cdrdao")
    parts = _per_file(sheet) if len(sheet.files) > 1 else [sheet]
    for number, part in enumerate(parts):
        part_text = render(part) if len(parts) > 1 else text
        folder = tmp / f"file{number}"
        for name in ("metaflac", "shnsplit", "cueprint"):
            (folder / name).mkdir(parents=True)
        check_metaflac(part_text, part, folder / "metaflac")
        check_shnsplit(part_text, part, folder / "shnsplit")
        check_pylibcue(part_text, part)
        if not _over_99(part):
            check_cueprint(part_text, folder / "cueprint")


def check_ffmetadata(text: str, plan: Plan, tmp: Path) -> None:
    """ffmpeg maps the chapters into an M4A; ffprobe and mutagen read them back."""
    ffmpeg, ffprobe = require("ffmpeg"), require("ffprobe")
    ends = [int(value) for value in re.findall(r"^END=(\d+)$", text, re.MULTILINE)]
    audio = silent_audio(tmp / "mix.m4a", max(ends) / 1000 + 1)
    (tmp / "chapters.ffmeta").write_text(text, encoding="utf-8")
    out = tmp / "out.m4a"
    mapped = run(
        ffmpeg, "-v", "error", "-y", "-i", audio, "-i", tmp / "chapters.ffmeta",
        "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", out,
    )  # fmt: skip
    assert mapped.returncode == 0, mapped.stderr
    probed = run(ffprobe, "-v", "error", "-show_chapters", "-of", "json", out)
    chapters = json.loads(probed.stdout)["chapters"]
    assert [round(float(chapter["start_time"]) * 1000) for chapter in chapters] == [
        track.start_ms for track in plan.tracks
    ]
    assert [chapter["tags"]["title"] for chapter in chapters] == [
        track.display for track in plan.tracks
    ]
    # mutagen reads the same chapters from the MP4 (Nero chapter list)
    mp4_chapters = MP4(out).chapters
    assert mp4_chapters is not None
    assert [round(chapter.start * 1000) for chapter in mp4_chapters] == [
        track.start_ms for track in plan.tracks
    ]


def check_podcast(text: str, plan: Plan) -> None:
    """Valid against the podcast namespace's JSON chapters schema, starts as planned."""
    document = json.loads(text)
    jsonschema.validate(document, PODCAST_SCHEMA)
    starts = [round(chapter["startTime"] * 1000) for chapter in document["chapters"]]
    assert starts == [track.start_ms for track in plan.tracks]


def check_youtube(text: str, result: Export) -> None:
    """YouTube's rules: 0:00 first, ascending, each at least 10 s, three or more."""
    stamps = []
    for line in text.splitlines():
        match = _YOUTUBE_LINE.match(line)
        assert match is not None, line
        hours, minutes, seconds = (int(group or 0) for group in match.groups()[:3])
        stamps.append((hours * 60 + minutes) * 60 + seconds)
    assert stamps[0] == 0
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(stamps))
    if len(stamps) < 3:
        assert any("YouTube needs 3" in str(notice) for notice in result.notices)


def check_m3u8(text: str, plan: Plan) -> None:
    """The m3u8 parser reads an entry per track with its length and name."""
    playlist = m3u8.loads(text)
    assert len(playlist.segments) == len(plan.tracks)
    assert all(segment.duration and segment.duration > 0 for segment in playlist.segments)
    assert [segment.title for segment in playlist.segments] == [
        track.display for track in plan.tracks
    ]


def vtt_ms(stamp: str) -> int:
    """Milliseconds of a WebVTT ``HH:MM:SS.mmm`` (webvtt-py's own seconds are whole)."""
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def check_webvtt(text: str, plan: Plan) -> None:
    """webvtt-py reads a cue per track, in order, each ending where the next starts."""
    captions = webvtt.from_string(text).captions
    assert [vtt_ms(caption.start) for caption in captions] == [t.start_ms for t in plan.tracks]
    ends = [vtt_ms(caption.end) for caption in captions]
    assert ends[:-1] == [track.start_ms for track in plan.tracks[1:]]


def check_rekordbox(text: str, plan: Plan, tmp: Path) -> None:
    """pyrekordbox reads one track with a memory cue per planned track."""
    (tmp / "rekordbox.xml").write_text(text, encoding="utf-8")
    collection = RekordboxXml(tmp / "rekordbox.xml")
    assert collection.num_tracks == 1
    marks = collection.get_track(0).marks
    assert [round(mark["Start"] * 1000) for mark in marks] == [t.start_ms for t in plan.tracks]
    assert all(mark["Num"] == -1 and mark["Type"] == "cue" for mark in marks)


def check_traktor(text: str, plan: Plan, tmp: Path) -> None:
    """traktor-nml-utils reads one entry with a CUE_V2 (ms) per planned track."""
    (tmp / "collection.nml").write_text(text, encoding="utf-8")
    entry = TraktorCollection(tmp / "collection.nml").nml.collection.entry[0]
    assert [round(cue.start) for cue in entry.cue_v2] == [t.start_ms for t in plan.tracks]
    assert [cue.hotcue for cue in entry.cue_v2][:8] == list(range(min(8, len(plan.tracks))))


def check_output(format_name: str, result: Export, plan: Plan, tmp: Path) -> None:
    """Dispatch ``result`` (one format's export of ``plan``) to its readers."""
    text = result.documents[0]
    if result.sheets:
        for number, (document, sheet) in enumerate(
            zip(result.documents, result.sheets, strict=True)
        ):
            folder = tmp / f"sheet{number}"
            folder.mkdir()
            check_cue(document, sheet, folder, strict=format_name in ("cd", "cdj"))
        return
    checks = {
        "ffmetadata": lambda: check_ffmetadata(text, plan, tmp),
        "podcast": lambda: check_podcast(text, plan),
        "youtube": lambda: check_youtube(text, result),
        "m3u8": lambda: check_m3u8(text, plan),
        "webvtt": lambda: check_webvtt(text, plan),
        "rekordbox": lambda: check_rekordbox(text, plan, tmp),
        "traktor": lambda: check_traktor(text, plan, tmp),
    }
    checks[format_name]()

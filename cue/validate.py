"""Structural rules of a whole sheet, as metaflac, libcue and cdrdao enforce them.

``strict=True`` adds the CD profile (cdrdao): 80-byte CD-TEXT strings, minutes at most 99,
no byte order mark. Without it, minutes above 99 are a warning (metaflac and shnsplit accept
them, cdrdao and newer libcue do not).
"""

from __future__ import annotations

from cue.defaults import CD_TEXT_MAX_BYTES, KNOWN_FILE_TYPES, MAX_STRICT_FRAMES, MAX_TRACKS
from cue.problems import Problem, Severity
from cue.sheet import CueSheet, CueTrack
from cue.timing import format_msf

_ISRC_LENGTH = 12
_CATALOG_LENGTH = 13


def validate(sheet: CueSheet, *, strict: bool = False) -> list[Problem]:
    """Every structural problem of ``sheet``; an empty list means strict readers accept it."""
    problems: list[Problem] = []
    if strict and sheet.bom:
        problems.append(Problem("error", "byte order mark: cdrdao rejects it", 1))
    if sheet.catalog is not None and not (
        sheet.catalog.isascii()
        and sheet.catalog.isdigit()
        and len(sheet.catalog) == _CATALOG_LENGTH
    ):
        problems.append(Problem("error", "CATALOG must be 13 digits"))
    for what, value in (("PERFORMER", sheet.performer), ("TITLE", sheet.title)):
        problems += _string(what, value, None, strict)
    if not sheet.files:
        problems.append(Problem("error", "no FILE line"))
    tracks = sheet.tracks()
    if not tracks:
        problems.append(Problem("error", "no TRACK"))
    for cue_file in sheet.files:
        if cue_file.type not in KNOWN_FILE_TYPES:
            message = f"FILE type {cue_file.type!r} is not one of {sorted(KNOWN_FILE_TYPES)}"
            problems.append(Problem("warning", message, cue_file.line))
        problems += _times(cue_file.tracks, strict)
    problems += _numbering(tracks)
    for track in tracks:
        problems += _track(track, strict)
    return problems


def _string(what: str, value: str | None, line: int | None, strict: bool) -> list[Problem]:
    if value is None:
        return []
    problems = []
    if '"' in value:
        problems.append(Problem("error", f"{what} contains a double quote", line))
    if value.endswith("\\"):
        problems.append(
            Problem("error", f"{what} ends in a backslash: libcue escapes the quote", line)
        )
    if any(ord(ch) < 32 for ch in value):
        problems.append(Problem("error", f"{what} contains a control character", line))
    if strict and not value:
        problems.append(Problem("error", f"{what} is empty: cdrdao rejects empty strings", line))
    size = len(value.encode("utf-8"))
    if strict and size > CD_TEXT_MAX_BYTES:
        message = f"{what} is {size} bytes: CD-TEXT holds {CD_TEXT_MAX_BYTES}"
        problems.append(Problem("error", message, line))
    return problems


def _numbering(tracks: list[CueTrack]) -> list[Problem]:
    problems = []
    for position, track in enumerate(tracks):
        if track.number > MAX_TRACKS:
            message = f"track {track.number}: a CUE sheet holds at most {MAX_TRACKS} tracks"
            problems.append(Problem("error", message, track.line))
        if position == 0 and track.number < 1:
            problems.append(Problem("error", "track numbers start at 1", track.line))
        if position > 0 and track.number != tracks[position - 1].number + 1:
            message = f"track {track.number} follows track {tracks[position - 1].number}"
            problems.append(Problem("error", message, track.line))
    if tracks and tracks[0].indexes and tracks[0].indexes[0].frames != 0:
        problems.append(Problem("error", "the first index must be 00:00:00", tracks[0].line))
    return problems


def _track(track: CueTrack, strict: bool) -> list[Problem]:
    problems = []
    for what, value in (("TITLE", track.title), ("PERFORMER", track.performer)):
        problems += _string(what, value, track.line, strict)
    if track.mode == "AUDIO" and track.start() is None:
        problems.append(Problem("error", f"track {track.number} has no INDEX 01", track.line))
    numbers = [index.number for index in track.indexes]
    expected = list(range(numbers[0], numbers[0] + len(numbers))) if numbers else []
    if numbers and (numbers != expected or numbers[0] > 1):
        message = f"track {track.number}: INDEX numbers {numbers} are not sequential from 0 or 1"
        problems.append(Problem("error", message, track.line))
    if track.isrc is not None and len(track.isrc) != _ISRC_LENGTH:
        problems.append(Problem("error", "ISRC must be 12 characters", track.line))
    return problems


def _times(tracks: list[CueTrack], strict: bool) -> list[Problem]:
    """Index times strictly increase through a FILE block and fit the minutes field."""
    problems: list[Problem] = []
    previous: int | None = None
    for track in tracks:
        for index in track.indexes:
            if previous is not None and index.frames <= previous:
                relation = "equals" if index.frames == previous else "is before"
                message = f"INDEX {format_msf(index.frames)} {relation} the previous index"
                problems.append(Problem("error", message, index.line))
            previous = index.frames
            if index.frames > MAX_STRICT_FRAMES:
                severity: Severity = "error" if strict else "warning"
                message = (
                    f"INDEX {format_msf(index.frames)} is past 99:59:74: "
                    "cdrdao and newer libcue reject minutes above 99"
                )
                problems.append(Problem(severity, message, index.line))
    return problems

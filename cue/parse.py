"""Read any CUE sheet, ours or another tool's, into a :class:`~cue.sheet.CueSheet`.

The parser is forgiving (it keeps going and builds what it can) and honest (everything a
strict reader would trip over becomes a :class:`~cue.problems.Problem` with its line).
Structural rules that need the whole sheet are :func:`cue.validate.validate`'s job;
:func:`parse` runs it too, so one call gives every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cue.defaults import FRAMES_PER_SECOND, MAX_NUMBER_DIGITS, SECONDS_PER_MINUTE
from cue.problems import Problem
from cue.sheet import BOM, CueFile, CueSheet, CueTrack, Index, Rem
from cue.timing import msf_to_frames, split_msf
from cue.validate import validate

# A token is a quoted string (closed or not) or a run of non-blank characters.
_TOKEN = re.compile(r'"([^"]*)("?)|(\S+)')
# A number is ASCII digits: str.isdigit() also accepts "²", which int() then refuses.
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class ParsedCue:
    """What :func:`parse` found: the sheet as far as it could be read, and its problems."""

    sheet: CueSheet
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class _State:
    sheet: CueSheet
    problems: list[Problem]
    cue_file: CueFile | None = None
    track: CueTrack | None = None

    def report(self, severity: str, message: str, line: int) -> None:
        self.problems.append(Problem("error" if severity == "error" else "warning", message, line))


def decode(data: bytes) -> tuple[str, list[Problem]]:
    """Text of a CUE file's bytes: UTF-8 when it is, else Windows-1252 (older rippers')."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        warning = Problem("warning", "not UTF-8: read as Windows-1252")
        return data.decode("cp1252", errors="replace"), [warning]


def parse(text: str, *, strict: bool = False) -> ParsedCue:
    """Parse CUE ``text``; ``strict`` applies the CD profile's rules when validating.

    Never raises on bad input: every defect is a problem in the result.
    """
    sheet = CueSheet()
    state = _State(sheet, [])
    if text.startswith(BOM):
        sheet.bom = True
        text = text[len(BOM) :]
        state.report("warning", "UTF-8 byte order mark: cdrdao and Debian's libcue reject it", 1)
    # Lines end at LF (CRLF too) as in libcue and metaflac; not at the Unicode breaks that
    # str.splitlines() would also honour inside a value.
    for number, line in enumerate(text.split("\n"), start=1):
        raw = line.removesuffix("\r")
        tokens = _tokens(raw, number, state)
        if tokens:
            _command(tokens, raw, number, state)
    state.problems += validate(sheet, strict=strict)
    state.problems.sort(key=lambda problem: problem.line or 0)
    return ParsedCue(sheet, state.problems)


def _tokens(raw: str, number: int, state: _State) -> list[str]:
    tokens: list[str] = []
    problems: list[str] = []
    for match in _TOKEN.finditer(raw):
        if match.group(3) is not None:
            if '"' in match.group(3):
                problems.append("stray double quote: CUE has no escape for it")
            tokens.append(match.group(3))
            continue
        if not match.group(2):
            problems.append("unterminated quoted string")
        elif match.end() < len(raw) and not raw[match.end()].isspace():
            problems.append("text right after a closing quote: a stray double quote?")
        elif match.group(1).endswith("\\"):
            problems.append('a backslash before the closing quote: libcue reads \\" as a quote')
        tokens.append(match.group(1))
    if problems:
        # the first only: one stray quote throws every later token off
        state.report("error", problems[0], number)
    return tokens


def _time(text: str, what: str, number: int, state: _State) -> int | None:
    fields = split_msf(text)
    if fields is None:
        state.report("error", f"{what}: {_excerpt(text)} is not mm:ss:ff", number)
        return None
    minutes, seconds, frames = fields
    if seconds >= SECONDS_PER_MINUTE:
        state.report("error", f"{what}: seconds {seconds} must be below 60", number)
    if frames >= FRAMES_PER_SECOND:
        state.report("error", f"{what}: frame {frames} must be below 75", number)
    return msf_to_frames(minutes, seconds, frames)


def _number(text: str, what: str, number: int, state: _State) -> int | None:
    if _DIGITS.fullmatch(text) is None:
        state.report("error", f"{what}: {_excerpt(text)} is not a number", number)
        return None
    if len(text) > MAX_NUMBER_DIGITS:
        state.report("error", f"{what}: a number of {len(text)} digits is too large", number)
        return None
    return int(text)


def _excerpt(text: str) -> str:
    """``text`` quoted for a problem message, cut short: a message never repeats a whole
    hostile line."""
    limit = 40
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _rem(raw: str, number: int) -> Rem:
    parts = raw.strip()[len("REM") :].strip().split(None, 1)
    key = parts[0] if parts else ""
    value = parts[1].strip() if len(parts) > 1 else ""
    if len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in value[1:-1]:
        value = value[1:-1]
    return Rem(key, value, number)


def _command(tokens: list[str], raw: str, number: int, state: _State) -> None:
    keyword, args = tokens[0].upper(), tokens[1:]
    if keyword == "REM":
        rem = _rem(raw, number)
        (state.track.rems if state.track else state.sheet.rems).append(rem)
    elif keyword == "FILE":
        if len(args) != 2:
            state.report("error", 'FILE needs "name" and a type', number)
            args = [*args, "", ""][:2]
        state.cue_file = CueFile(args[0], args[1].upper(), line=number)
        state.sheet.files.append(state.cue_file)
        state.track = None
    elif keyword == "TRACK":
        _track(args, number, state)
    elif keyword in ("INDEX", "PREGAP", "POSTGAP", "ISRC", "FLAGS"):
        _track_command(keyword, args, number, state)
    elif keyword in ("TITLE", "PERFORMER", "SONGWRITER"):
        if len(args) != 1:
            state.report("error", f"{keyword} needs one value (quote values with spaces)", number)
        value = " ".join(args)
        setattr(state.track or state.sheet, keyword.lower(), value)
    elif keyword in ("CATALOG", "CDTEXTFILE"):
        if state.cue_file is not None:
            state.report("error", f"{keyword} belongs before the first FILE", number)
        setattr(state.sheet, keyword.lower(), " ".join(args))
    else:
        state.report("warning", f"unknown command {tokens[0]!r} ignored", number)


def _track(args: list[str], number: int, state: _State) -> None:
    if state.cue_file is None:
        state.report("error", "TRACK before any FILE", number)
        state.cue_file = CueFile("", "", line=number)
        state.sheet.files.append(state.cue_file)
    if not args:
        state.report("error", "TRACK needs a number and a mode", number)
        args = ["0"]
    track_number = _number(args[0], "TRACK", number, state)
    mode = args[1].upper() if len(args) > 1 else "AUDIO"
    state.track = CueTrack(track_number or 0, mode, line=number)
    state.cue_file.tracks.append(state.track)


def _track_command(keyword: str, args: list[str], number: int, state: _State) -> None:
    track = state.track
    if track is None:
        state.report("error", f"{keyword} outside a TRACK", number)
        return
    if keyword == "FLAGS":
        track.flags = [flag.upper() for flag in args]
    elif keyword == "ISRC":
        track.isrc = " ".join(args)
    elif not args:
        state.report("error", f"{keyword} needs a time", number)
    elif keyword == "INDEX":
        if len(args) != 2:
            state.report("error", "INDEX needs a number and mm:ss:ff", number)
            return
        index_number = _number(args[0], "INDEX", number, state)
        frames = _time(args[1], "INDEX", number, state)
        if index_number is not None and frames is not None:
            track.indexes.append(Index(index_number, frames, number))
    elif keyword == "PREGAP":
        if track.indexes:
            state.report("error", "PREGAP must come before the track's first INDEX", number)
        track.pregap = _time(args[0], keyword, number, state)
    else:
        if not track.indexes:
            state.report("error", "POSTGAP must come after the track's INDEX lines", number)
        track.postgap = _time(args[0], keyword, number, state)

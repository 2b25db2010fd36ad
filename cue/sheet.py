"""The CUE sheet model shared by the writer and the parser, and :func:`render`.

The model keeps what the CDRWIN grammar can say, in the order :func:`render` writes it.
``line`` fields remember where the parser found an element (for problem reports); they
take no part in equality, so a parsed sheet equals the one it was rendered from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cue.timing import format_msf

BOM = "\ufeff"


@dataclass(slots=True)
class Index:
    """``INDEX nn mm:ss:ff``: ``frames`` counts from the start of the enclosing FILE."""

    number: int
    frames: int
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class Rem:
    """``REM KEY value``: a comment line; EAC and libcue give GENRE, DATE, COMMENT meaning."""

    key: str
    value: str
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class CueTrack:
    """``TRACK nn MODE`` and the commands that belong to it."""

    number: int
    mode: str = "AUDIO"
    title: str | None = None
    performer: str | None = None
    songwriter: str | None = None
    rems: list[Rem] = field(default_factory=list)
    isrc: str | None = None
    flags: list[str] = field(default_factory=list)
    pregap: int | None = None
    indexes: list[Index] = field(default_factory=list)
    postgap: int | None = None
    line: int | None = field(default=None, compare=False)

    def start(self) -> int | None:
        """Frames of ``INDEX 01``, the track's start, or ``None`` when it has none."""
        return next((index.frames for index in self.indexes if index.number == 1), None)


@dataclass(slots=True)
class CueFile:
    """``FILE "name" TYPE`` and its tracks; INDEX times are relative to this file."""

    name: str
    type: str
    tracks: list[CueTrack] = field(default_factory=list)
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class CueSheet:
    """A whole sheet: disc-level commands, then the FILE blocks."""

    rems: list[Rem] = field(default_factory=list)
    catalog: str | None = None
    cdtextfile: str | None = None
    performer: str | None = None
    title: str | None = None
    songwriter: str | None = None
    files: list[CueFile] = field(default_factory=list)
    bom: bool = False

    def tracks(self) -> list[CueTrack]:
        """Every track of every FILE block, in sheet order."""
        return [track for cue_file in self.files for track in cue_file.tracks]


def quote(value: str) -> str:
    """``value`` in double quotes. CUE has no escapes, so callers remove ``"`` first."""
    return f'"{value}"'


def _rem_value(value: str) -> str:
    # EAC writes one-word REM values bare (REM DATE 2024); anything with a space is quoted.
    return value if value and not any(ch.isspace() for ch in value) else quote(value)


def _track_lines(track: CueTrack) -> list[str]:
    lines = [f"  TRACK {track.number:02d} {track.mode}"]
    for keyword, value in (
        ("TITLE", track.title),
        ("PERFORMER", track.performer),
        ("SONGWRITER", track.songwriter),
    ):
        if value is not None:
            lines.append(f"    {keyword} {quote(value)}")
    lines += [f"    REM {rem.key} {_rem_value(rem.value)}" for rem in track.rems]
    if track.isrc is not None:
        lines.append(f"    ISRC {track.isrc}")
    if track.flags:
        lines.append(f"    FLAGS {' '.join(track.flags)}")
    if track.pregap is not None:
        lines.append(f"    PREGAP {format_msf(track.pregap)}")
    lines += [f"    INDEX {index.number:02d} {format_msf(index.frames)}" for index in track.indexes]
    if track.postgap is not None:
        lines.append(f"    POSTGAP {format_msf(track.postgap)}")
    return lines


def render(sheet: CueSheet) -> str:
    """The sheet as CUE text: UTF-8-ready, LF line ends, a BOM only if ``sheet.bom``."""
    lines = [f"REM {rem.key} {_rem_value(rem.value)}" for rem in sheet.rems]
    if sheet.catalog is not None:
        lines.append(f"CATALOG {sheet.catalog}")
    if sheet.cdtextfile is not None:
        lines.append(f"CDTEXTFILE {quote(sheet.cdtextfile)}")
    for keyword, value in (
        ("PERFORMER", sheet.performer),
        ("TITLE", sheet.title),
        ("SONGWRITER", sheet.songwriter),
    ):
        if value is not None:
            lines.append(f"{keyword} {quote(value)}")
    for cue_file in sheet.files:
        lines.append(f"FILE {quote(cue_file.name)} {cue_file.type}")
        for track in cue_file.tracks:
            lines += _track_lines(track)
    return (BOM if sheet.bom else "") + "\n".join(lines) + "\n"

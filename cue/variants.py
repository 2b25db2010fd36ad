"""The CUE sheet variants: one writer, a few switches, each with the reason it exists.

See ``docs/cue-formats.md`` for the longer story. In short:

* ``standard``: CDRWIN as foobar2000, metaflac, shntool and libcue read it. Disc
  ``REM GENRE``/``REM DATE``/``REM COMMENT`` (EAC's keys, the ones libcue knows).
* ``cd``: the strict profile for burning with cdrdao: CD-TEXT strings cut to 80 bytes,
  minutes at most 99 (error unless split), no byte order mark, no empty strings, and a
  WAV FILE (the audio's name with ``.wav``, reported when it differs).
* ``cdj``: ``cd`` in plain ASCII, for a mix CD played on DJ CD decks, whose displays show
  CD-TEXT in ASCII only (CD-TEXT's character codes are ISO 8859-1 and ASCII).
* ``kodi``: Kodi's CueDocument reads ``REM DATE`` as a number (a year) and ``REM GENRE``,
  splits artist and genre on ``" / "`` and uses only the FILE's base name. The variant
  writes exactly that.

Every variant keeps lines within 1023 bytes (Kodi's line buffer, libcue's string buffer):
a longer value, such as a title with many folded rows, is cut with an ellipsis and reported.
* ``serato``: Serato DJ reads no cue sheet and keeps its cues inside the audio file's tags,
  which a text library cannot write. The variant is for splitting a recording into
  per-track files before adding them to a Serato crate: no REM lines, and each TITLE
  repeats the artist (``Artist - Title``) so the name survives tools that keep only TITLE.

``traktor`` and ``rekordbox`` are not CUE sheets: those programs take cue points only in
their own collection files (see :mod:`cue.djsoftware`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from cue.defaults import (
    CD_TEXT_MAX_BYTES,
    DEFAULT_AUDIO_NAME,
    DJ_SEPARATOR,
    FILE_TYPES,
    GENRE_SEPARATOR,
    KODI_SEPARATOR,
    MAX_LINE_BYTES,
    MAX_STRICT_FRAMES,
    MAX_TRACKS,
    PREGAP_MS,
)
from cue.errors import ProfileError, SetTooLongError, TooManyTracksError
from cue.model import Notice, Tracklist
from cue.options import LongSet, Options
from cue.plan import Plan, Track
from cue.sheet import CueFile, CueSheet, CueTrack, Index, Rem
from cue.text import cue_safe, to_ascii, truncate_bytes
from cue.timing import format_clock, ms_to_frames

# Room for the keyword, indent and quotes of the longest value line (PERFORMER).
_LINE_VALUE_BYTES = MAX_LINE_BYTES - len('    PERFORMER ""') - 2


def _standard_rems(tracklist: Tracklist) -> list[Rem]:
    rems = []
    if tracklist.genres:
        rems.append(Rem("GENRE", GENRE_SEPARATOR.join(tracklist.genres)))
    if tracklist.date:
        rems.append(Rem("DATE", tracklist.date))
    if tracklist.url:
        rems.append(Rem("COMMENT", tracklist.url))
    return rems


def _cd_rems(tracklist: Tracklist) -> list[Rem]:
    return [rem for rem in _standard_rems(tracklist) if rem.key != "COMMENT"]


def _kodi_rems(tracklist: Tracklist) -> list[Rem]:
    rems = []
    if tracklist.genres:
        rems.append(Rem("GENRE", KODI_SEPARATOR.join(tracklist.genres)))
    if tracklist.date:
        rems.append(Rem("DATE", tracklist.date[:4]))
    return rems


@dataclass(frozen=True, slots=True)
class Variant:
    """The switches that make a CUE variant."""

    name: str
    disc_rems: Callable[[Tracklist], list[Rem]]
    strict: bool = False
    ascii: bool = False
    artist_in_title: bool = False
    dj_separator: str = DJ_SEPARATOR
    max_value_bytes: int = _LINE_VALUE_BYTES
    disc_numbers: bool = True

    def default_long_set(self) -> LongSet:
        """``error`` for the CD profiles (cdrdao rejects it), ``warn`` elsewhere."""
        return "error" if self.strict else "warn"


VARIANTS: dict[str, Variant] = {
    "standard": Variant("standard", _standard_rems),
    "cd": Variant("cd", _cd_rems, strict=True, max_value_bytes=CD_TEXT_MAX_BYTES),
    "cdj": Variant("cdj", _cd_rems, strict=True, ascii=True, max_value_bytes=CD_TEXT_MAX_BYTES),
    "kodi": Variant("kodi", _kodi_rems, dj_separator=KODI_SEPARATOR),
    "serato": Variant("serato", lambda _: [], artist_in_title=True, disc_numbers=False),
}


@dataclass(slots=True)
class _Writer:
    variant: Variant
    notices: list[Notice]

    def text(self, value: str, what: str, rows: tuple[int, ...] = ()) -> str | None:
        """``value`` made safe for this variant, or ``None`` when nothing is left (cdrdao
        rejects an empty string, so the command is left out instead)."""
        cleaned = cue_safe(value)
        if self.variant.ascii:
            cleaned = to_ascii(cleaned)
        limit = self.variant.max_value_bytes
        if len(cleaned.encode("utf-8")) > limit:
            cleaned = truncate_bytes(cleaned, limit)
            self.notices.append(Notice(f"{what} cut to {limit} bytes", rows))
        return cleaned or None


def file_type(audio_name: str) -> str | None:
    """The CUE FILE type for an audio file name, or ``None`` for an unknown extension."""
    return FILE_TYPES.get(PurePath(audio_name).suffix.lower())


def build_sheets(
    plan: Plan, variant: Variant, options: Options
) -> tuple[list[CueSheet], list[Notice]]:
    """The CUE sheet(s) for ``plan``: one, or one per disc when tracks are split.

    :raises ProfileError: ``bom`` with a strict CD profile.
    :raises TooManyTracksError: over 99 tracks with ``too_many_tracks="error"``.
    :raises SetTooLongError: a cue past 99:59:74 with ``long_set="error"``, or with
        ``"warn"`` in a strict CD profile.
    """
    if options.bom and variant.strict:
        raise ProfileError(f"the {variant.name} profile forbids a byte order mark (cdrdao)")
    notices: list[Notice] = []
    tracks = list(plan.tracks)
    if len(tracks) > MAX_TRACKS and options.too_many_tracks == "error":
        raise TooManyTracksError(
            f"{len(tracks)} tracks: a CUE sheet holds {MAX_TRACKS}; "
            "use too_many_tracks='split' for several sheets"
        )
    discs = [tracks[start : start + MAX_TRACKS] for start in range(0, len(tracks), MAX_TRACKS)]
    if len(discs) > 1:
        cuts = ", ".join(format_clock(disc[0].start_ms) for disc in discs[1:])
        message = f"{len(tracks)} tracks split into {len(discs)} sheets: cut the audio at {cuts}"
        notices.append(Notice(message))
    audio = PurePath(options.audio_name or DEFAULT_AUDIO_NAME).name
    if variant.strict and PurePath(audio).suffix.lower() != ".wav":
        # cdrdao burns WAV (its MP3/Ogg readers are optional and absent in distributions).
        converted = PurePath(audio).stem + ".wav"
        notices.append(Notice(f"cdrdao burns WAV: the sheet names {converted}; convert {audio}"))
        audio = converted
    if cue_safe(audio) != audio:
        # a quote or control character in a file name cannot be written in a CUE string
        notices.append(Notice(f"rename {audio!r}: the sheet names {cue_safe(audio)!r}"))
        audio = cue_safe(audio)
    kind = file_type(audio)
    if kind is None:
        notices.append(Notice(f"unknown audio type {PurePath(audio).suffix!r}: declared WAVE"))
    writer = _Writer(variant, notices)
    long_set = options.long_set or variant.default_long_set()
    sheets = []
    for number, disc in enumerate(discs, start=1):
        parts = _parts(disc, long_set, variant.strict, notices)
        sheet = _disc(plan.tracklist, writer, len(discs), number)
        first = 1
        for part_number, part in enumerate(parts, start=1):
            name = _part_name(audio, len(discs), number, len(parts), part_number)
            cue_tracks = _tracks(part, first, writer, options)
            sheet.files.append(CueFile(name, kind or "WAVE", cue_tracks))
            first += len(cue_tracks)
        sheet.bom = options.bom
        sheets.append(sheet)
    return sheets, notices


def _disc(tracklist: Tracklist, writer: _Writer, discs: int, number: int) -> CueSheet:
    variant = writer.variant
    rems = variant.disc_rems(tracklist)
    if discs > 1 and variant.disc_numbers:
        rems += [Rem("DISCNUMBER", str(number)), Rem("TOTALDISCS", str(discs))]
    title = tracklist.title if discs == 1 else f"{tracklist.title} (disc {number} of {discs})"
    safe_rems = [(rem.key, writer.text(rem.value, f"REM {rem.key}")) for rem in rems]
    return CueSheet(
        rems=[Rem(key, value) for key, value in safe_rems if value is not None],
        performer=writer.text(variant.dj_separator.join(tracklist.djs), "disc PERFORMER"),
        title=writer.text(title, "disc TITLE"),
    )


def _parts(
    tracks: list[Track], long_set: LongSet, strict: bool, notices: list[Notice]
) -> list[list[Track]]:
    """Cut a disc into FILE blocks whose INDEX times all fit in 99:59:74.

    A strict profile never warns: cdrdao rejects the sheet, so "warn" is an error there.
    """
    origin = tracks[0].start_frame
    if tracks[-1].start_frame - origin <= MAX_STRICT_FRAMES:
        return [tracks]
    late = tracks[-1]
    beyond = f"the cue {format_clock(late.start_ms)} is past 99:59:74"
    if long_set == "error" or (long_set == "warn" and strict):
        raise SetTooLongError(f"{beyond}: use long_set='split' (or 'warn' outside the CD profiles)")
    if long_set == "warn":
        notices.append(
            Notice(
                f"{beyond}: metaflac, shnsplit and mpv read it, cdrdao and newer libcue do not",
                late.rows,
            )
        )
        return [tracks]
    parts: list[list[Track]] = [[]]
    for track in tracks:
        if parts[-1] and track.start_frame - parts[-1][0].start_frame > MAX_STRICT_FRAMES:
            parts.append([])
        parts[-1].append(track)
    cuts = ", ".join(format_clock(part[0].start_ms) for part in parts[1:])
    notices.append(Notice(f"long set split into {len(parts)} FILE blocks: cut the audio at {cuts}"))
    return parts


def _part_name(audio: str, discs: int, disc: int, parts: int, part: int) -> str:
    path = PurePath(audio)
    stem = path.stem
    if discs > 1:
        stem += f".disc{disc}"
    if parts > 1:
        stem += f".part{part}"
    return stem + path.suffix


def _tracks(part: list[Track], first: int, writer: _Writer, options: Options) -> list[CueTrack]:
    """The CUE tracks of one FILE block, numbered from ``first``, times from its start."""
    origin = part[0].start_frame
    pregap = ms_to_frames(PREGAP_MS)
    result = []
    previous: int | None = None
    for number, track in enumerate(part, start=first):
        start = track.start_frame - origin
        title = track.display if writer.variant.artist_in_title else track.title
        cue_track = CueTrack(
            number=number,
            title=writer.text(title, "track TITLE", track.rows),
            performer=writer.text(track.performer, "track PERFORMER", track.rows),
        )
        if options.include_pregap and previous is not None and start - pregap > previous:
            cue_track.indexes.append(Index(0, start - pregap))
        cue_track.indexes.append(Index(1, start))
        previous = start
        result.append(cue_track)
    return result

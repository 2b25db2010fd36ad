"""Every output format by name, and :func:`export`, the one call most callers need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cue.chapters import ffmetadata, m3u8, webvtt
from cue.djsoftware import rekordbox_xml, traktor_nml
from cue.errors import UnknownFormatError
from cue.model import Notice, Tracklist
from cue.options import Options
from cue.plan import Plan, plan
from cue.sheet import CueSheet, render
from cue.variants import VARIANTS, build_sheets
from cue.web import podcast_json, youtube

Kind = Literal["cue", "chapters", "dj-software"]
Renderer = Callable[[Plan, Options], tuple[list[str], list[Notice]]]


@dataclass(frozen=True, slots=True)
class Format:
    """A named output: its kind, the file suffix it is saved with, a one-line summary, and
    its renderer (``None`` for the CUE variants, which share :func:`build_sheets`)."""

    name: str
    kind: Kind
    suffix: str
    summary: str
    renderer: Renderer | None = None


@dataclass(frozen=True, slots=True)
class Export:
    """The result of :func:`export`.

    ``documents`` holds one text, or one per disc when a CUE sheet was split for having
    more than 99 tracks. ``sheets`` holds the CUE models behind them (empty for other
    kinds), for validation against an audio file. ``notices`` is what to tell the user.
    """

    documents: tuple[str, ...]
    notices: tuple[Notice, ...]
    sheets: tuple[CueSheet, ...] = ()


_CUE_SUMMARIES = {
    "standard": "CDRWIN cue sheet for players and splitters (foobar2000, metaflac, shntool)",
    "cd": "strict CD profile for burning with cdrdao: 80-byte CD-TEXT, 99 minutes, no BOM",
    "cdj": "the CD profile in ASCII, for mix CDs played on DJ CD decks",
    "kodi": "cue sheet as Kodi's CueDocument reads it (year, ' / ' separators)",
    "serato": "cue sheet for splitting a recording into files for a Serato crate",
}

FORMATS: dict[str, Format] = {
    **{name: Format(name, "cue", ".cue", summary) for name, summary in _CUE_SUMMARIES.items()},
    "traktor": Format(
        "traktor", "dj-software", ".nml", "Traktor NML collection, CUE_V2 per track", traktor_nml
    ),
    "rekordbox": Format(
        "rekordbox", "dj-software", ".xml", "rekordbox XML, memory cue per track", rekordbox_xml
    ),
    "ffmetadata": Format(
        "ffmetadata", "chapters", ".ffmeta", "FFmpeg chapters (-map_chapters)", ffmetadata
    ),
    "podcast": Format("podcast", "chapters", ".json", "Podcasting 2.0 JSON chapters", podcast_json),
    "youtube": Format("youtube", "chapters", ".txt", "YouTube description timestamps", youtube),
    "m3u8": Format("m3u8", "chapters", ".m3u8", "extended M3U, an entry per track", m3u8),
    "webvtt": Format("webvtt", "chapters", ".vtt", "WebVTT chapters track", webvtt),
}


def export(tracklist: Tracklist, format_name: str, options: Options | None = None) -> Export:
    """Render ``tracklist`` as ``format_name`` (a key of :data:`FORMATS`).

    :raises UnknownFormatError: ``format_name`` is not a known format.
    :raises EmptyTracklistError: the tracklist has no rows.
    :raises TooManyTracksError, SetTooLongError, ProfileError: CUE limits, per
        :class:`~cue.options.Options`.
    """
    options = options or Options()
    found = FORMATS.get(format_name)
    if found is None:
        raise UnknownFormatError(
            f"unknown format {format_name!r}; choose one of {', '.join(FORMATS)}"
        )
    planned = plan(tracklist, missing_cue=options.missing_cue, duration_ms=options.duration_ms)
    if found.renderer is None:
        sheets, notices = build_sheets(planned, VARIANTS[format_name], options)
        documents = tuple(render(sheet) for sheet in sheets)
        return Export(documents, (*planned.notices, *notices), tuple(sheets))
    texts, notices = found.renderer(planned, options)
    return Export(tuple(texts), (*planned.notices, *notices))

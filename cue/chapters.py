"""Chapter formats from the same plan: FFMETADATA, WebVTT chapters and M3U8.

Chapters need an end. Each ends where the next starts; the last ends at ``duration_ms``
when the recording's length is known, otherwise 4 minutes after its start (reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from cue.defaults import DEFAULT_AUDIO_NAME, DJ_SEPARATOR, FALLBACK_TRACK_MS, GENRE_SEPARATOR
from cue.model import Notice
from cue.options import Options
from cue.plan import Plan, Track
from cue.text import one_line
from cue.timing import format_seconds, format_timestamp


@dataclass(frozen=True, slots=True)
class Span:
    """A chapter: ``[start_ms, end_ms)`` and its one-line title."""

    start_ms: int
    end_ms: int
    title: str


def chapter_title(track: Track, number: int) -> str:
    """The one-line name of a chapter: ``Artist - Title``, or ``Track N`` when the row has
    neither (an empty WebVTT cue or YouTube line would be misread as no chapter)."""
    return one_line(track.display) or f"Track {number}"


def spans(plan: Plan, notices: list[Notice]) -> list[Span]:
    """Chapters with ends, in order; reports a guessed end for the last one."""
    tracks = plan.tracks
    last = tracks[-1]
    if plan.duration_ms is not None and plan.duration_ms > last.start_ms:
        final_end = plan.duration_ms
    else:
        final_end = last.start_ms + FALLBACK_TRACK_MS
        reason = "set length unknown" if plan.duration_ms is None else "the audio ends before it"
        notices.append(Notice(f"{reason}: the last chapter is given 4 minutes", last.rows))
    ends = [track.start_ms for track in tracks[1:]] + [final_end]
    return [
        Span(track.start_ms, end, chapter_title(track, number))
        for number, (track, end) in enumerate(zip(tracks, ends, strict=True), start=1)
    ]


def _ffmeta_escape(value: str) -> str:
    # FFmpeg's metadata format gives '=', ';', '#', '\' and newline a meaning; escape them.
    for special in ("\\", "=", ";", "#", "\n"):
        value = value.replace(special, "\\" + special)
    return value


def ffmetadata(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """``;FFMETADATA1`` text for ``ffmpeg -i mix -i this -map_chapters 1``."""
    notices: list[Notice] = []
    tracklist = plan.tracklist
    lines = [";FFMETADATA1", f"title={_ffmeta_escape(one_line(tracklist.title))}"]
    if tracklist.djs:
        lines.append(f"artist={_ffmeta_escape(one_line(DJ_SEPARATOR.join(tracklist.djs)))}")
    if tracklist.date:
        lines.append(f"date={_ffmeta_escape(tracklist.date)}")
    if tracklist.genres:
        lines.append(f"genre={_ffmeta_escape(one_line(GENRE_SEPARATOR.join(tracklist.genres)))}")
    for span in spans(plan, notices):
        lines += [
            "",
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={span.start_ms}",
            f"END={span.end_ms}",
            f"title={_ffmeta_escape(span.title)}",
        ]
    return ["\n".join(lines) + "\n"], notices


def _vtt_escape(value: str) -> str:
    # Cue text is markup: '&' and '<' must be escaped, and '>' too so "-->" cannot appear.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """A WebVTT chapters track (``<track kind="chapters">``), one cue per track."""
    notices: list[Notice] = []
    blocks = ["WEBVTT"]
    for number, span in enumerate(spans(plan, notices), start=1):
        timing = f"{format_timestamp(span.start_ms)} --> {format_timestamp(span.end_ms)}"
        blocks.append(f"{number}\n{timing}\n{_vtt_escape(span.title)}")
    return ["\n\n".join(blocks) + "\n"], notices


def m3u8(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """An extended M3U (UTF-8) playlist with one entry per track of the one audio file.

    ``#EXTINF`` carries each track's length and name; ``#EXTVLCOPT:start-time`` and
    ``stop-time`` make VLC play just that stretch, so the playlist navigates the mix.
    """
    notices: list[Notice] = []
    audio = PurePath(options.audio_name or DEFAULT_AUDIO_NAME).name
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(plan.tracklist.title)}"]
    for span in spans(plan, notices):
        lines += [
            f"#EXTINF:{format_seconds(span.end_ms - span.start_ms)},{span.title}",
            f"#EXTVLCOPT:start-time={format_seconds(span.start_ms)}",
            f"#EXTVLCOPT:stop-time={format_seconds(span.end_ms)}",
            audio,
        ]
    return ["\n".join(lines) + "\n"], notices

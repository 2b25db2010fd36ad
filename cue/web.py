"""Chapter formats for publishing: YouTube description timestamps and Podcasting 2.0 JSON."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from cue.chapters import chapter_title, spans
from cue.defaults import (
    DJ_SEPARATOR,
    MS_PER_SECOND,
    PODCAST_CHAPTERS_VERSION,
    YOUTUBE_MIN_CHAPTER_MS,
    YOUTUBE_MIN_CHAPTERS,
)
from cue.model import Notice
from cue.options import Options
from cue.plan import Plan, Track
from cue.text import one_line
from cue.timing import format_clock


def youtube(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """``M:SS Artist - Title [LABEL]`` lines for a video description, obeying YouTube's rules.

    YouTube makes chapters only when the first stamp is 0:00 (the plan guarantees it),
    stamps ascend (likewise), every chapter lasts at least 10 s, and there are at least
    three. Tracks shorter than 10 s join the chapter before them; a last chapter shorter
    than 10 s (known only with ``duration_ms``) joins its predecessor; fewer than three
    chapters is reported, since YouTube will show the lines as plain text.
    """
    notices: list[Notice] = []
    kept: list[tuple[Track, str]] = []
    for number, track in enumerate(plan.tracks, start=1):
        title = chapter_title(track, number)
        if track.label:
            title += f" [{one_line(track.label)}]"
        if kept and track.start_ms - kept[-1][0].start_ms < YOUTUBE_MIN_CHAPTER_MS:
            kept[-1] = (kept[-1][0], f"{kept[-1][1]} / {title}")
            notices.append(Notice("under 10 s after the previous stamp: merged", track.rows))
            continue
        kept.append((track, title))
    end = plan.duration_ms
    if end is not None and len(kept) > 1 and end - kept[-1][0].start_ms < YOUTUBE_MIN_CHAPTER_MS:
        last_track, last_title = kept.pop()
        kept[-1] = (kept[-1][0], f"{kept[-1][1]} / {last_title}")
        notices.append(Notice("last chapter under 10 s: merged", last_track.rows))
    if len(kept) < YOUTUBE_MIN_CHAPTERS:
        notices.append(
            Notice(f"{len(kept)} timestamps: YouTube needs {YOUTUBE_MIN_CHAPTERS} for chapters")
        )
    lines = [f"{format_clock(track.start_ms)} {title}" for track, title in kept]
    return ["\n".join(lines) + "\n"], notices


def _seconds(ms: int) -> int | float:
    return ms // MS_PER_SECOND if ms % MS_PER_SECOND == 0 else ms / MS_PER_SECOND


def podcast_json(plan: Plan, options: Options) -> tuple[list[str], list[Notice]]:
    """Podcasting 2.0 JSON chapters (the podcast namespace's ``chapters`` file)."""
    notices: list[Notice] = []
    tracklist = plan.tracklist
    document: dict[str, Any] = {
        "version": PODCAST_CHAPTERS_VERSION,
        "title": one_line(tracklist.title),
    }
    if tracklist.djs:
        document["author"] = one_line(DJ_SEPARATOR.join(tracklist.djs))
    if options.audio_name:
        document["fileName"] = PurePath(options.audio_name).name
    document["chapters"] = [
        {
            "startTime": _seconds(span.start_ms),
            "endTime": _seconds(span.end_ms),
            "title": span.title,
        }
        for span in spans(plan, notices)
    ]
    return [json.dumps(document, ensure_ascii=False, indent=2) + "\n"], notices

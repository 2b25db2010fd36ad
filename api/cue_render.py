"""A stored tracklist through :mod:`cue`: the text, a file name and what to warn about.

With an audio file (confined to the media root by :func:`api.media.resolve_audio`), the
recording's length feeds the export (estimates, the last chapter's end) and the sheet is
checked against the audio with :func:`cue.check_audio`: errors (a FILE type the audio does
not match, a cue after its end) refuse the request, warnings are returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from api.errors import ApiProblem, field_error
from api.extensions import settings
from api.media import AUDIO_FIELD, resolve_audio
from cue import FORMATS, CueError, Options, check_audio, export, read_audio
from store.cue_source import cue_tracklist
from store.models import Tracklist

# What each format is served as. CUE sheets have no registered type; application/x-cue is
# what players and browsers associate with .cue.
MEDIA_TYPES = {
    **{name: "application/x-cue" for name, found in FORMATS.items() if found.kind == "cue"},
    "traktor": "application/xml",
    "rekordbox": "application/xml",
    "ffmetadata": "text/plain",
    "podcast": "application/json+chapters",
    "youtube": "text/plain",
    "m3u8": "application/vnd.apple.mpegurl",
    "webvtt": "text/vtt",
}
_SLUG = re.compile(r"/tracklist/[^/]+/([0-9a-z][0-9a-z_-]*)\.html$")


@dataclass(frozen=True, slots=True)
class Rendered:
    """The output text, its suggested file name and the warnings to hand back."""

    text: str
    filename: str
    warnings: list[str]


def render_tracklist(
    session: Session,
    tracklist: Tracklist,
    format_name: str,
    *,
    audio_file_path: str | None,
    include_pregap: bool,
) -> Rendered:
    """Render ``tracklist`` as ``format_name``; 422 when cue or the audio check refuses it."""
    audio = None
    audio_path: Path | None = None
    if audio_file_path is not None:
        audio_path = resolve_audio(audio_file_path, settings().media_root)
        try:
            audio = read_audio(audio_path)
        except CueError as exc:
            raise field_error(AUDIO_FIELD, str(exc)) from None
    options = Options(
        duration_ms=audio.duration_ms if audio else None,
        audio_name=str(audio_path) if audio_path else None,
        include_pregap=include_pregap,
    )
    try:
        result = export(cue_tracklist(session, tracklist), format_name, options)
    except CueError as exc:
        raise ApiProblem(422, str(exc), kind="validation-error") from None
    if len(result.documents) != 1:  # only when splitting, which these options never ask for
        raise ApiProblem(422, "the tracklist does not fit one file", kind="validation-error")
    warnings = [str(notice) for notice in result.notices]
    if audio is not None:
        problems = [found for sheet in result.sheets for found in check_audio(sheet, audio)]
        errors = [found.message for found in problems if found.severity == "error"]
        if errors:
            raise field_error(AUDIO_FIELD, "the sheet does not fit the audio: " + "; ".join(errors))
        warnings += [f"audio: {found.message}" for found in problems]
    match = _SLUG.search(tracklist.url)
    stem = match.group(1) if match else "tracklist"
    return Rendered(result.documents[0], f"{stem}{FORMATS[format_name].suffix}", warnings)

"""A stored tracklist through :mod:`cue` (:mod:`service.cue_export`), checked against audio.

With an audio file (confined to the media root by :func:`api.media.resolve_audio`), the
recording's length feeds the export (estimates, the last chapter's end) and the sheet is
checked against the audio with :func:`cue.check_audio`: errors (a FILE type the audio does
not match, a cue after its end) refuse the request, warnings are returned.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from api.errors import ApiProblem, field_error
from api.extensions import settings
from api.media import AUDIO_FIELD, resolve_audio
from cue import FORMATS, CueError, Options, check_audio, read_audio
from service.cue_export import Rendered, RenderError, render_stored
from store.models import Tracklist, TracklistVersion

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


def render_tracklist(
    session: Session,
    tracklist: Tracklist,
    format_name: str,
    *,
    audio_file_path: str | None,
    include_pregap: bool,
    version: TracklistVersion | None = None,
) -> Rendered:
    """Render ``tracklist`` (or its ``version``) as ``format_name``; 422 when cue or the audio
    check refuses it."""
    audio = None
    audio_path: Path | None = None
    if audio_file_path is not None:
        audio_path = resolve_audio(audio_file_path, settings().media_root)
        try:
            audio = read_audio(audio_path)
        except CueError:
            # cue's message names the absolute path (and the OS error may too): not for clients.
            raise field_error(AUDIO_FIELD, "not an audio file that can be read") from None
    options = Options(
        duration_ms=audio.duration_ms if audio else None,
        audio_name=str(audio_path) if audio_path else None,
        include_pregap=include_pregap,
    )
    try:
        rendered = render_stored(session, tracklist, format_name, options, version)
    except RenderError as exc:
        raise ApiProblem(422, str(exc), kind="validation-error") from None
    if audio is None:
        return rendered
    problems = [found for sheet in rendered.sheets for found in check_audio(sheet, audio)]
    errors = [found.message for found in problems if found.severity == "error"]
    if errors:
        raise field_error(AUDIO_FIELD, "the sheet does not fit the audio: " + "; ".join(errors))
    return replace(
        rendered, warnings=rendered.warnings + [f"audio: {found.message}" for found in problems]
    )

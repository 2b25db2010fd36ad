"""Audio paths from clients, confined to ``TRACKLIST_MEDIA_ROOT``.

A client names an audio file relative to the media root (an absolute path is accepted only if
it lies inside it). Which paths are usable is decided once, in :func:`service.media.media_file`:
everything outside the root, missing or not a regular file gets the same answer, and no
answer holds a path.
"""

from __future__ import annotations

from pathlib import Path

from api.errors import field_error
from service.media import MediaPathRefused, media_file

AUDIO_FIELD = "audio_file_path"


def resolve_audio(raw: str, media_root: Path | None) -> Path:
    """The real path of the audio file ``raw`` names; raises a 422 naming the field."""
    if media_root is None:
        raise field_error(AUDIO_FIELD, "audio files are not enabled (TRACKLIST_MEDIA_ROOT unset)")
    try:
        return media_file(raw, [media_root])
    except MediaPathRefused as refused:
        raise field_error(AUDIO_FIELD, str(refused)) from None

"""Audio paths from clients, confined to ``TRACKLIST_MEDIA_ROOT``.

A client names an audio file relative to the media root (an absolute path is accepted only if
it lies inside it). Refused: any ``..`` component, paths outside the root, and symbolic links
anywhere on the way that lead out of it (the fully resolved path must still be inside the
resolved root). Nothing outside the root is opened, not even to say whether it exists.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from api.errors import field_error

AUDIO_FIELD = "audio_file_path"
_MAX_PATH = 4096


def resolve_audio(raw: str, media_root: Path | None) -> Path:
    """The real path of the audio file ``raw`` names; raises a 422 naming the field."""
    if media_root is None:
        raise field_error(AUDIO_FIELD, "audio files are not enabled (TRACKLIST_MEDIA_ROOT unset)")
    if not raw or len(raw) > _MAX_PATH or "\x00" in raw:
        raise field_error(AUDIO_FIELD, "not a usable path")
    given = PurePath(raw)
    if ".." in given.parts:
        raise field_error(AUDIO_FIELD, "'..' is not allowed")
    root = media_root.resolve()
    candidate = Path(given) if given.is_absolute() else root / given
    # Check the lexical path first: an absolute path elsewhere is refused before any lookup.
    if not candidate.is_relative_to(root) and not candidate.is_relative_to(media_root):
        raise field_error(AUDIO_FIELD, "must be inside the media root")
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise field_error(AUDIO_FIELD, "no such file under the media root") from None
    if not real.is_relative_to(root):
        raise field_error(AUDIO_FIELD, "leads outside the media root (symbolic link)")
    if not real.is_file():
        raise field_error(AUDIO_FIELD, "not a regular file")
    return real

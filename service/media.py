"""Files named by clients and file events, confined to media folders: the one decision.

A path is relative to a root (each tried in turn) or absolute and lexically inside one. It names a
usable file when, with every symbolic link resolved, it is a regular file inside that root's
resolved folder. Everything else (a ``..`` component, a path elsewhere, a link anywhere on the
way that leads out, a missing file, a folder) gets one answer, :data:`NOT_A_MEDIA_FILE`, so no
answer tells whether something exists outside a root: ``sets/etc-dir/passwd`` and
``sets/etc-dir/no-such-file`` through a link to ``/etc`` read the same. The answer never holds
a path. ``POST /cue/generate`` (``api.media``) and the files consumer
(``messaging.consumers.files``) both decide here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

NOT_A_MEDIA_FILE = "no such file under the media root"
UNUSABLE = "not a usable path"
MAX_PATH = 4096


class MediaPathRefused(ValueError):
    """The path names no usable file under the roots; the message holds no path."""


class UnusablePath(MediaPathRefused):
    """The text is no path at all, whatever the file system holds (:data:`UNUSABLE`)."""


def media_file(raw: str, roots: Sequence[Path]) -> Path:
    """The real path of the regular file ``raw`` names under one of ``roots``.

    :raises UnusablePath: for text that is no path at all (empty, too long, a NUL, a lone
        surrogate): decided without looking at any file.
    :raises MediaPathRefused: :data:`NOT_A_MEDIA_FILE`, for everything else refused.
    """
    if not raw or len(raw) > MAX_PATH or "\x00" in raw or not _encodable(raw):
        raise UnusablePath(UNUSABLE)
    given = PurePath(raw)
    if ".." not in given.parts:
        for root in roots:
            found = _beneath(given, root)
            if found is not None:
                return found
    raise MediaPathRefused(NOT_A_MEDIA_FILE)


def _encodable(raw: str) -> bool:
    """Whether the operating system can take ``raw`` as a file name (no lone surrogates)."""
    try:
        os.fsencode(raw)
    except UnicodeError:
        return False
    return True


def _beneath(given: PurePath, root: Path) -> Path | None:
    """The real regular file ``given`` names inside ``root``, or None."""
    named_root = root.absolute()
    real_root = root.resolve()
    candidate = Path(given) if given.is_absolute() else real_root / given
    # Lexically first: an absolute path elsewhere is refused before any lookup. The root may
    # be named through a link of its own (/srv/media -> /mnt/media), so both spellings count.
    if not (candidate.is_relative_to(real_root) or candidate.is_relative_to(named_root)):
        return None
    try:
        real = candidate.resolve(strict=True)
        # Resolved first, looked at after: nothing outside the root is examined further.
        return real if real.is_relative_to(real_root) and real.is_file() else None
    except (OSError, RuntimeError):  # missing, a link loop, unreadable on the way
        return None

"""The options every format takes, with their defaults and what each one changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cue.plan import MissingCue

LongSet = Literal["warn", "split", "error"]
LONG_SET_CHOICES: tuple[LongSet, ...] = ("warn", "split", "error")
TooManyTracks = Literal["error", "split"]
TOO_MANY_TRACKS_CHOICES: tuple[TooManyTracks, ...] = ("error", "split")


@dataclass(frozen=True, slots=True)
class Options:
    """How to turn a tracklist into a format.

    * ``missing_cue``: rows without a cue are folded, estimated or dropped
      (see :mod:`cue.plan`); every affected row is reported.
    * ``duration_ms``: the recording's length (from the audio file), for estimates and
      the last chapter's end. Unknown: estimates use 4-minute tracks and the last
      chapter gets 4 minutes, both reported.
    * ``audio_name``: the audio file the output describes; its extension picks the CUE
      FILE type. Only the file name is written (readers look beside the sheet).
    * ``include_pregap``: CUE only; an ``INDEX 00`` two seconds before each track after
      the first. Off by default because mpv skips and shifts chapters on INDEX 00 in a
      continuous mix.
    * ``bom``: CUE only; start with a UTF-8 byte order mark for Windows tools that want
      one. Off by default (cdrdao and Debian's libcue reject it; forbidden in ``cd``).
    * ``long_set``: CUE only; a cue past 99:59:74 is a ``"warn"``-ing (metaflac, shnsplit,
      mpv read it; cdrdao, newer libcue do not), an ``"error"``, or ``"split"`` into FILE
      blocks of at most 99 minutes, each a part of the audio to cut at the reported
      times. ``None``: the format's default (``error`` for the CD profiles, where
      ``"warn"`` is an error too: cdrdao rejects such a sheet).
    * ``too_many_tracks``: CUE only; more than 99 tracks is an ``"error"`` or ``"split"``
      into several sheets (discs) of at most 99, never truncated.
    """

    missing_cue: MissingCue = "fold"
    duration_ms: int | None = None
    audio_name: str | None = None
    include_pregap: bool = False
    bom: bool = False
    long_set: LongSet | None = None
    too_many_tracks: TooManyTracks = "error"

"""Time conversions: milliseconds, CUE frames (75 per second) and ``mm:ss:ff`` text.

All arithmetic is on whole frames. Rounding each field on its own is how other tools end
up writing ``:75``; converting once to a total and splitting it with ``divmod`` cannot.
"""

from __future__ import annotations

import re

from cue.defaults import FRAMES_PER_MINUTE, FRAMES_PER_SECOND, MAX_NUMBER_DIGITS, MS_PER_SECOND

# ASCII digits only (``\d`` and str.isdigit() also take "²" and "٣"), at most
# MAX_NUMBER_DIGITS each: int() of every field then always succeeds.
_FIELD = f"([0-9]{{1,{MAX_NUMBER_DIGITS}}})"
_MSF = re.compile(rf"{_FIELD}:{_FIELD}:{_FIELD}")


def ms_to_frames(ms: int) -> int:
    """Whole frames at or before ``ms``: flooring never starts a track after its cue."""
    if ms < 0:
        raise ValueError(f"negative time: {ms} ms")
    return ms * FRAMES_PER_SECOND // MS_PER_SECOND


def frames_to_ms(frames: int) -> int:
    """The first whole millisecond inside frame ``frames``: the exact inverse of
    :func:`ms_to_frames`, so ``ms_to_frames(frames_to_ms(f)) == f``."""
    return -(-frames * MS_PER_SECOND // FRAMES_PER_SECOND)


def format_msf(frames: int) -> str:
    """``mm:ss:ff`` for a frame count; minutes widen past 99 rather than wrap."""
    if frames < 0:
        raise ValueError(f"negative frame count: {frames}")
    minutes, rest = divmod(frames, FRAMES_PER_MINUTE)
    seconds, frame = divmod(rest, FRAMES_PER_SECOND)
    return f"{minutes:02d}:{seconds:02d}:{frame:02d}"


def split_msf(text: str) -> tuple[int, int, int] | None:
    """The three numeric fields of ``mm:ss:ff`` text, unchecked, or ``None`` if malformed
    (anything but ASCII digits, or a field longer than MAX_NUMBER_DIGITS)."""
    match = _MSF.fullmatch(text)
    if match is None:
        return None
    minutes, seconds, frames = (int(group) for group in match.groups())
    return minutes, seconds, frames


def msf_to_frames(minutes: int, seconds: int, frames: int) -> int:
    """Total frames of a time whose fields are already known to be in range."""
    return minutes * FRAMES_PER_MINUTE + seconds * FRAMES_PER_SECOND + frames


def format_clock(ms: int, *, always_hours: bool = False) -> str:
    """``M:SS`` or ``H:MM:SS`` (whole seconds, floored), as YouTube and people write times."""
    total_seconds = ms // MS_PER_SECOND
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours or always_hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def format_timestamp(ms: int) -> str:
    """``HH:MM:SS.mmm`` as WebVTT writes cue times."""
    seconds, millis = divmod(ms, MS_PER_SECOND)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def format_seconds(ms: int) -> str:
    """Seconds with three decimals (``12.345``), as XML cue formats and M3U write them."""
    seconds, millis = divmod(ms, MS_PER_SECOND)
    return f"{seconds}.{millis:03d}"

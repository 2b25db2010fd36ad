"""Check a sheet against the audio file it describes (the library's only file reading).

:func:`read_audio` asks mutagen for the file's format and length; :func:`check_audio`
compares a sheet with it: the FILE name and type, whether every cue lies inside the audio,
and drift (the audio's length against the length the tracklist expects, and sample rates
at which a CUE frame is not a whole number of samples).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import mutagen

from cue.defaults import (
    DRIFT_TOLERANCE_MS,
    FRAMES_PER_SECOND,
    MIN_LAST_TRACK_MS,
    MS_PER_SECOND,
)
from cue.errors import AudioError
from cue.problems import Problem
from cue.sheet import CueSheet
from cue.timing import format_clock, frames_to_ms
from cue.variants import file_type

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# The CUE FILE type each container needs; everything else is WAVE by convention.
_TYPE_BY_FORMAT = {"MP3": "MP3", "AIFF": "AIFF"}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What mutagen read: ``format`` is its class name (``FLAC``, ``MP3``, ``WAVE``,
    ``MP4``, ``OggVorbis``, ``OggOpus``, ``AIFF``...)."""

    name: str
    format: str
    duration_ms: int
    sample_rate: int | None

    @property
    def cue_file_type(self) -> str:
        """The FILE type a sheet for this audio must declare."""
        return _TYPE_BY_FORMAT.get(self.format, "WAVE")


class _Nameless(io.RawIOBase):
    """A file without a ``name``: mutagen then picks the format by content alone, so a
    FLAC named ``.mp3`` is read as FLAC (and reported) instead of failing as bad MP3."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        data = self._raw.read(len(memoryview(buffer)))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def read_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Format, length and sample rate of the audio file at ``path``.

    :raises AudioError: the file cannot be read or is not audio mutagen knows.
    """
    try:
        with open(path, "rb") as raw:
            found = mutagen.File(io.BufferedReader(_Nameless(raw)))
    except (OSError, mutagen.MutagenError) as exc:
        raise AudioError(f"cannot read audio {os.fspath(path)!r}: {exc}") from None
    if found is None or not getattr(found.info, "length", 0):
        raise AudioError(f"{os.fspath(path)!r} is not an audio file mutagen recognises")
    sample_rate = getattr(found.info, "sample_rate", None)
    return AudioInfo(
        name=Path(path).name,
        format=type(found).__name__,
        duration_ms=round(found.info.length * MS_PER_SECOND),
        sample_rate=sample_rate if isinstance(sample_rate, int) and sample_rate else None,
    )


def check_audio(
    sheet: CueSheet, audio: AudioInfo, *, expected_duration_ms: int | None = None
) -> list[Problem]:
    """Problems of ``sheet`` against ``audio``: empty when they belong together.

    ``expected_duration_ms`` is the recording's length as the tracklist's source gives it;
    a difference over two seconds is reported as drift (a different edit or a different
    lead-in shifts every cue).
    """
    problems: list[Problem] = []
    if len(sheet.files) != 1:
        message = f"{len(sheet.files)} FILE blocks: check each part against its own audio"
        return [Problem("warning", message)]
    cue_file = sheet.files[0]
    if cue_file.name != audio.name:
        message = f"FILE names {cue_file.name!r} but the audio is {audio.name!r}"
        problems.append(Problem("warning", message, cue_file.line))
    if cue_file.type != audio.cue_file_type:
        message = f"FILE type {cue_file.type} but {audio.format} audio needs {audio.cue_file_type}"
        problems.append(Problem("error", message, cue_file.line))
    by_name = file_type(audio.name)
    if by_name is not None and by_name != audio.cue_file_type:
        message = f"{audio.name!r} holds {audio.format} audio: its extension says otherwise"
        problems.append(Problem("warning", message))
    problems += _inside(sheet, audio)
    problems += _drift(audio, expected_duration_ms)
    return problems


def _inside(sheet: CueSheet, audio: AudioInfo) -> list[Problem]:
    starts = [
        (track, index) for track in sheet.tracks() for index in track.indexes if index.number == 1
    ]
    if not starts:
        return []
    track, index = starts[-1]
    start_ms = frames_to_ms(index.frames)
    length = format_clock(audio.duration_ms)
    if start_ms >= audio.duration_ms:
        message = (
            f"track {track.number} starts at {format_clock(start_ms)}, after the end ({length})"
        )
        return [Problem("error", message, index.line)]
    if audio.duration_ms - start_ms < MIN_LAST_TRACK_MS:
        message = f"track {track.number} starts under a second before the end ({length})"
        return [Problem("warning", message, index.line)]
    return []


def _drift(audio: AudioInfo, expected_duration_ms: int | None) -> list[Problem]:
    problems = []
    if expected_duration_ms is not None:
        drift = audio.duration_ms - expected_duration_ms
        if abs(drift) > DRIFT_TOLERANCE_MS:
            direction = "longer" if drift > 0 else "shorter"
            message = (
                f"audio is {abs(drift) / MS_PER_SECOND:.1f} s {direction} than the tracklist's "
                "recording: cues may be shifted"
            )
            problems.append(Problem("warning", message))
    if audio.sample_rate is not None and audio.sample_rate % FRAMES_PER_SECOND:
        message = (
            f"at {audio.sample_rate} Hz a CUE frame is not a whole number of samples: "
            "split points are rounded to the nearest sample"
        )
        problems.append(Problem("warning", message))
    return problems

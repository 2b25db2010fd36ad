"""CUE sheets and chapter formats from DJ-set tracklists: a pure library.

It imports nothing from the crawler, the store, the API or the CLI and does no I/O, except
:mod:`cue.audio`, which reads the audio file it is given. Typical use::

    from cue import Entry, Options, Tracklist, export
    result = export(Tracklist("Set", (Entry(1, "A", "B", cue_ms=0),)), "standard")
    print(result.documents[0])

Reading sheets: :func:`parse` (any tool's) returns the model and problems with line
numbers; :func:`validate` checks a model; :func:`render` writes one back.
"""

from cue.audio import AudioInfo, check_audio, read_audio
from cue.errors import (
    AudioError,
    CueError,
    EmptyTracklistError,
    ProfileError,
    SetTooLongError,
    TooManyTracksError,
    UnknownFormatError,
)
from cue.formats import FORMATS, Export, Format, export
from cue.model import Entry, Notice, Tracklist
from cue.options import Options
from cue.parse import ParsedCue, decode, parse
from cue.plan import Plan, Track, plan
from cue.problems import Problem, has_errors
from cue.sheet import CueFile, CueSheet, CueTrack, Index, Rem, render
from cue.validate import validate

__all__ = [
    "FORMATS",
    "AudioError",
    "AudioInfo",
    "CueError",
    "CueFile",
    "CueSheet",
    "CueTrack",
    "EmptyTracklistError",
    "Entry",
    "Export",
    "Format",
    "Index",
    "Notice",
    "Options",
    "ParsedCue",
    "Plan",
    "Problem",
    "ProfileError",
    "Rem",
    "SetTooLongError",
    "TooManyTracksError",
    "Track",
    "Tracklist",
    "UnknownFormatError",
    "check_audio",
    "decode",
    "export",
    "has_errors",
    "parse",
    "plan",
    "read_audio",
    "render",
    "validate",
]

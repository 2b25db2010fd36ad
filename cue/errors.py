"""The errors the library raises. Each one is documented where it can be raised.

Every failure is a :class:`CueError`, so a caller can catch one class and show the message,
which is a complete sentence meant for the user.
"""

from __future__ import annotations


class CueError(ValueError):
    """A tracklist or an option that cannot become the requested output."""


class EmptyTracklistError(CueError):
    """The tracklist has no rows: there is nothing to put in a sheet."""


class TooManyTracksError(CueError):
    """More than 99 tracks for a CUE sheet while ``too_many_tracks="error"``."""


class SetTooLongError(CueError):
    """A cue beyond 99:59:74 while ``long_set="error"`` (the default of the strict CD profiles)."""


class ProfileError(CueError):
    """An option the chosen format forbids, such as a BOM in the strict CD profile."""


class UnknownFormatError(CueError):
    """A format name that is not one of :data:`cue.formats.FORMATS`."""


class AudioError(CueError):
    """An audio file that cannot be read or whose format is not recognised."""

"""The tracklist value the library turns into text, and the warnings it reports back.

`cue` never reads a page or a database: callers build a :class:`Tracklist` (the CLI does so
from the JSON ``tracklists parse`` prints) and hand it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a tracklist, as the site shows it.

    ``cue_ms`` is the start of the row within the recording, or ``None`` where the site
    shows no time. ``played_with_previous`` marks a "w/" row, played together with the row
    before it. ``is_id`` marks an unidentified track ("ID - ID", or a title of "ID").
    """

    row: int
    artist: str
    title: str
    cue_ms: int | None = None
    version: str | None = None
    label: str | None = None
    is_id: bool = False
    played_with_previous: bool = False
    position: int | None = None

    @property
    def full_title(self) -> str:
        """The title with its version in brackets, as a listener reads it."""
        return f"{self.title} ({self.version})" if self.version else self.title

    @property
    def display(self) -> str:
        """``Artist - Title (Version)``."""
        return f"{self.artist} - {self.full_title}" if self.artist else self.full_title


@dataclass(frozen=True, slots=True)
class Tracklist:
    """A DJ set: its heading facts and its rows in page order."""

    title: str
    entries: tuple[Entry, ...]
    djs: tuple[str, ...] = ()
    date: str | None = None
    genres: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the caller should tell the user: which rows were changed and why.

    ``rows`` are the tracklist rows concerned (empty for a whole-set notice).
    """

    message: str
    rows: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        if not self.rows:
            return self.message
        label = "row" if len(self.rows) == 1 else "rows"
        return f"{label} {', '.join(map(str, self.rows))}: {self.message}"

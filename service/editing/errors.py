"""What editing a tracklist can refuse, without HTTP: the API maps these to 404, 409 and 422."""

from __future__ import annotations

from dataclasses import dataclass


class EditError(Exception):
    """Base of the refusals below; the message says what and why."""


class NotFound(EditError):
    """No such tracklist, version, draft or conflict (or not of this tracklist)."""


class Conflict(EditError):
    """The request contradicts the current state: a stale draft, a closed conflict, …"""


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid field of a document: ``entries.3.cue_ms`` names the row with index 3."""

    field: str
    message: str


class Invalid(EditError):
    """The document breaks the rules of a tracklist (see :mod:`service.editing.rules`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

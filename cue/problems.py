"""What the parser, the validator and the audio check report: problems with a place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``error``: a real reader rejects or misreads the sheet; ``warning``:
    some readers do, or the sheet says something the user should know. ``line`` is
    1-based in the sheet text, ``None`` for findings about the sheet as a whole."""

    severity: Severity
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{self.severity}: {where}{self.message}"


def has_errors(problems: list[Problem]) -> bool:
    """Whether any of ``problems`` is an error."""
    return any(problem.severity == "error" for problem in problems)

"""The document of a draft: built from what an editor sends, and the rules it must keep.

A draft holds a document in the shape of ``tracklist_versions.content`` (so publishing it is
storing it), with every row's derived fields (``row``, ``display``, ``is_id``,
``cue_seconds``) computed here rather than trusted from the client. The page's facts an edit
cannot change (site id, URL, DJs, sources) are carried over from the version it started from.

:func:`problems` lists what breaks a tracklist's rules, naming the field as
``entries.<index>.<name>`` (index = row - 1) and the row in the message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from domain.identity import track_key
from service.editing.errors import Problem

EDITABLE = ("title", "date", "genres", "entries")
_UNKNOWN = "ID"
_PAGE_ONLY = ("warnings", "notes")  # what the parser noticed on the page, not the set's facts


def edited_document(base: Mapping[str, Any], edit: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (a version's or draft's document) with the editable parts from ``edit``."""
    when = edit.get("date")
    entries = [_entry(row, found) for row, found in enumerate(edit["entries"], start=1)]
    document = {key: value for key, value in base.items() if key not in _PAGE_ONLY}
    document.update(
        title=_text(edit["title"]) or "",
        date=when.isoformat() if isinstance(when, date) else (when or None),
        genres=[_text(genre) or "" for genre in edit.get("genres") or ()],
        entry_count=len(entries),
        entries=entries,
    )
    return document


def draft_document(content: Mapping[str, Any]) -> dict[str, Any]:
    """A version's document as a draft holds it (derived fields recomputed)."""
    editable = {key: content.get(key) for key in EDITABLE}
    editable["entries"] = [
        {**entry, "mashup_parts": [part.get("display", "") for part in entry["mashup_parts"]]}
        for entry in content.get("entries") or ()
    ]
    return edited_document(content, editable)


def _entry(row: int, found: Mapping[str, Any]) -> dict[str, Any]:
    artist, title = _text(found.get("artist")) or "", _text(found.get("title")) or ""
    version, label = _text(found.get("version")), _text(found.get("label"))
    cue_ms = found.get("cue_ms")
    return {
        "row": row,
        "position": found.get("position"),
        "played_with_previous": bool(found.get("played_with_previous")),
        "cue_seconds": None if cue_ms is None else cue_ms // 1000,
        "display": f"{artist} - {title}" + (f" ({version})" if version else ""),
        "artist": artist,
        "title": title,
        "version": version,
        "label": label,
        "is_id": _UNKNOWN in (artist, title),
        "mashup_parts": [
            {"display": text} for part in found.get("mashup_parts") or () if (text := _text(part))
        ],
        "cue_ms": cue_ms,
        "track_id": None,  # the site's id of the track the page linked; an edit links none
    }


def _text(value: Any) -> str | None:
    """Stripped text; blank is ``None``."""
    if value is None:
        return None
    return str(value).strip() or None


def problems(document: Mapping[str, Any]) -> list[Problem]:
    """Everything in ``document`` that breaks a tracklist's rules (empty when publishable)."""
    found: list[Problem] = []
    if not document.get("title"):
        found.append(Problem("title", "the title must not be blank"))
    for index, genre in enumerate(document.get("genres") or ()):
        if not genre:
            found.append(Problem(f"genres.{index}", "a genre must not be blank"))
    entries = list(document.get("entries") or ())
    if not entries:
        found.append(Problem("entries", "a tracklist needs at least one row"))
    for check in (_required, _positions, _cues, _duplicates):
        found += [
            Problem(f"entries.{index}.{name}", f"row {index + 1}: {message}")
            for index, name, message in check(entries)
        ]
    return sorted(found, key=_row_order)


# Each check yields (index, field, message) for the rows that break one rule.
_Found = Iterator[tuple[int, str, str]]


def _required(entries: list[Mapping[str, Any]]) -> _Found:
    for index, entry in enumerate(entries):
        for name in ("artist", "title"):
            if not entry.get(name):
                yield index, name, f"the {name} must not be blank ('ID' for an unknown track)"


def _positions(entries: list[Mapping[str, Any]]) -> _Found:
    """Shown numbers increase; a "w/" row has none and cannot open the set."""
    last: tuple[int, int] | None = None  # (row, position)
    for index, entry in enumerate(entries):
        position = entry.get("position")
        if entry.get("played_with_previous"):
            if index == 0:
                yield index, "played_with_previous", "the first row has no previous row"
            if position is not None:
                yield index, "position", "a row played with the previous one ('w/') has none"
        elif position is None:
            yield index, "position", "needs its position (the number shown)"
        elif last is not None and position <= last[1]:
            yield index, "position", f"{position} must be greater than row {last[0]}'s {last[1]}"
        if position is not None:
            last = (index + 1, position)


def _cues(entries: list[Mapping[str, Any]]) -> _Found:
    """Cue times never decrease (rows without one are skipped)."""
    last: tuple[int, int] | None = None  # (row, cue_ms)
    for index, entry in enumerate(entries):
        cue_ms = entry.get("cue_ms")
        if cue_ms is None:
            continue
        if last is not None and cue_ms < last[1]:
            yield (
                index,
                "cue_ms",
                f"cue {_clock(cue_ms)} is before row {last[0]}'s {_clock(last[1])}",
            )
        last = (index + 1, cue_ms)


def _duplicates(entries: list[Mapping[str, Any]]) -> _Found:
    """A known track again at the same cue, or right after itself: a row entered twice."""
    seen: dict[tuple[str, int | None], int] = {}  # (track key, cue) -> first row
    previous: tuple[str, int | None] | None = None
    for index, entry in enumerate(entries):
        if entry.get("is_id"):
            previous = None
            continue
        identity = track_key(str(entry["artist"]), str(entry["title"]), entry.get("version"))
        key = (identity, entry.get("cue_ms"))
        if key == previous:
            yield index, "title", f"repeats row {index} (the same track twice in a row)"
        elif key[1] is not None and key in seen:
            yield index, "title", f"repeats row {seen[key]} (the same track at the same cue)"
        seen.setdefault(key, index + 1)
        previous = key


def _row_order(problem: Problem) -> tuple[int, str]:
    parts = problem.field.split(".")
    return (int(parts[1]) if len(parts) > 2 else -1, problem.field)


def _clock(ms: int) -> str:
    minutes, seconds = divmod(ms // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"

"""What changed between two versions' documents: metadata fields, and rows added, removed or
changed. Rows are aligned on their track identity (so an inserted row shows as one addition,
not as every later row changed), then rows replaced by other tracks on their slot (shown
number and cue), so an ID filled in shows as that row changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from difflib import SequenceMatcher
from typing import Any

from domain.identity import track_key

METADATA_FIELDS = ("title", "date", "genres", "djs", "sources")
ENTRY_FIELDS = (
    "position",
    "cue_ms",
    "played_with_previous",
    "artist",
    "title",
    "version",
    "label",
    "is_id",
    "mashup_parts",
)


def public_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A document's row as the API shows it (mashup parts as their display text)."""
    shown = {name: entry.get(name) for name in ("row", *ENTRY_FIELDS)}
    shown["mashup_parts"] = [
        str(part.get("display", "")) for part in entry.get("mashup_parts") or ()
    ]
    shown["played_with_previous"] = bool(shown["played_with_previous"])
    shown["is_id"] = bool(shown["is_id"])
    return shown


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{"metadata": [{field, from, to}], "entries": [{change, from_row, to_row, …}]}``."""
    metadata = [
        {"field": name, "from": before.get(name), "to": after.get(name)}
        for name in METADATA_FIELDS
        if before.get(name) != after.get(name)
    ]
    old = [public_entry(entry) for entry in before.get("entries") or ()]
    new = [public_entry(entry) for entry in after.get("entries") or ()]
    changes: list[dict[str, Any]] = []
    for tag, olds, news in _aligned(old, new, _identity):
        # Rows replaced by other tracks: the same slot (number and cue) is a row corrected,
        # e.g. an ID filled in; anything else was removed or added.
        if tag == "replace":
            for slot_tag, slot_olds, slot_news in _aligned(olds, news, _slot):
                changes += _compare(slot_tag, slot_olds, slot_news)
        else:
            changes += _compare(tag, olds, news)
    return {"metadata": metadata, "entries": changes}


Row = dict[str, Any]


def _aligned(
    old: list[Row], new: list[Row], key: Callable[[Row], Hashable]
) -> Iterator[tuple[str, list[Row], list[Row]]]:
    matcher = SequenceMatcher(a=[key(e) for e in old], b=[key(e) for e in new], autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        yield tag, old[old_start:old_end], new[new_start:new_end]


def _compare(tag: str, olds: list[Row], news: list[Row]) -> list[dict[str, Any]]:
    if tag != "equal":
        removed = [_change("removed", was, None, []) for was in olds]
        return removed + [_change("added", None, now, []) for now in news]
    changes = []
    for was, now in zip(olds, news, strict=True):
        fields = [name for name in ENTRY_FIELDS if was[name] != now[name]]
        if fields:
            changes.append(_change("changed", was, now, fields))
    return changes


def _identity(entry: Row) -> Hashable:
    return track_key(str(entry["artist"]), str(entry["title"]), entry.get("version"))


def _slot(entry: Row) -> Hashable:
    return (entry["position"], entry["cue_ms"])


def _change(
    kind: str, was: dict[str, Any] | None, now: dict[str, Any] | None, fields: list[str]
) -> dict[str, Any]:
    return {
        "change": kind,
        "from_row": was["row"] if was else None,
        "to_row": now["row"] if now else None,
        "fields": fields,
        "before": was,
        "after": now,
    }

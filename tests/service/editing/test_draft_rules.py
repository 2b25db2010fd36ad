"""The document rules and the diff, on plain documents (no database)."""

from __future__ import annotations

from typing import Any

from service.editing.diff import diff
from service.editing.rules import draft_document, edited_document, problems

BASE: dict[str, Any] = {
    "page_type": "tracklist",
    "tracklist_id": "abc",
    "url": "https://www.1001tracklists.com/tracklist/abc/x.html",
    "title": "A Set",
    "djs": ["Some DJ"],
    "sources": [],
    "date": "2024-05-01",
    "genres": ["Techno"],
    "warnings": ["a parser warning"],
    "entries": [
        {
            "row": row,
            "position": row,
            "played_with_previous": False,
            "cue_ms": cue,
            "artist": artist,
            "title": title,
            "version": None,
            "label": None,
            "is_id": False,
            "mashup_parts": [],
            "track_id": "t1",
        }
        for row, (artist, title, cue) in enumerate(
            [
                ("Carl Cox", "Dexter", 0),
                ("Adam Beyer", "Your Mind", 60_000),
                ("Bicep", "Glue", None),
            ],
            start=1,
        )
    ],
}


def test_a_draft_keeps_the_page_facts_and_recomputes_the_derived_ones() -> None:
    draft = draft_document(BASE)
    assert (draft["url"], draft["djs"], draft["entry_count"]) == (BASE["url"], ["Some DJ"], 3)
    assert "warnings" not in draft
    first = draft["entries"][0]
    assert (first["display"], first["cue_seconds"], first["track_id"]) == (
        "Carl Cox - Dexter",
        0,
        None,
    )
    assert problems(draft) == []


def test_blank_metadata_and_no_rows_are_problems() -> None:
    edited = edited_document(BASE, {"title": "  ", "date": None, "genres": [" "], "entries": []})
    assert [(p.field, p.message) for p in problems(edited)] == [
        ("entries", "a tracklist needs at least one row"),
        ("genres.0", "a genre must not be blank"),
        ("title", "the title must not be blank"),
    ]


def test_text_is_stripped_and_an_unknown_track_is_an_id_row() -> None:
    row = {"position": 1, "cue_ms": None, "artist": " ID ", "title": "Mystery ", "version": " "}
    edited = edited_document(BASE, {"title": "T", "genres": [], "entries": [row]})
    [entry] = edited["entries"]
    assert (entry["artist"], entry["title"], entry["version"], entry["is_id"]) == (
        "ID",
        "Mystery",
        None,
        True,
    )


def test_an_inserted_row_is_one_addition_not_every_later_row_changed() -> None:
    rows = [dict(entry) for entry in BASE["entries"]]
    rows.insert(1, {**rows[0], "artist": "Amelie Lens", "title": "Hypnotized", "cue_ms": 30_000})
    for number, row in enumerate(rows, start=1):
        row["row"] = row["position"] = number
    changes = diff(BASE, {**BASE, "entries": rows})["entries"]
    assert [(c["change"], c["to_row"]) for c in changes] == [("added", 2)] + [
        ("changed", row)
        for row in (3, 4)  # only their shown numbers moved
    ]
    assert {field for c in changes[1:] for field in c["fields"]} == {"position"}

"""Typed pages to the JSON documents of ``shared/real-pages/expected`` (``tracklists parse``).

Field names and order follow the expected files exactly. A ``warnings`` key is added only
when the parser raised warnings (e.g. the page counts more rows than were parsed), so a
clean page's document equals the expected file while a suspicious one says so.
"""

from __future__ import annotations

from typing import Any

from crawler.pages.types import (
    ListingPage,
    MediaLinksPage,
    ParsedPage,
    ResultRow,
    TrackEntry,
    TracklistPage,
)


def to_document(page: ParsedPage) -> dict[str, Any]:
    """The JSON-ready document of a parsed page."""
    if isinstance(page, TracklistPage):
        document = _tracklist(page)
    elif isinstance(page, ListingPage):
        document = _listing(page)
    else:
        document = _media_links(page)
    warnings = getattr(page, "warnings", ())
    if warnings:
        document["warnings"] = list(warnings)
    return document


def blocked_document(page_type: str) -> dict[str, Any]:
    """The document of an anti-bot page: only its kind."""
    return {"page_type": page_type}


def _tracklist(page: TracklistPage) -> dict[str, Any]:
    return {
        "page_type": page.page_type,
        "tracklist_id": page.tracklist_id,
        "url": page.url,
        "title": page.title,
        "djs": [dj.name for dj in page.djs],
        "sources": [source.name for source in page.sources],
        "date": page.date,
        "genres": list(page.genres),
        "entry_count": len(page.entries),
        "entries": [_entry(entry) for entry in page.entries],
    }


def _entry(entry: TrackEntry) -> dict[str, Any]:
    return {
        "row": entry.row,
        "position": entry.position,
        "played_with_previous": entry.played_with_previous,
        "cue_seconds": entry.cue_seconds,
        "display": entry.display,
        "artist": entry.artist,
        "title": entry.title,
        "version": entry.version,
        "label": entry.label,
        "is_id": entry.is_id,
        "mashup_parts": [{"display": part.display} for part in entry.mashup_parts],
    }


def _listing(page: ListingPage) -> dict[str, Any]:
    document: dict[str, Any] = {"page_type": page.page_type}
    if page.page_type != "search":
        document["dj"] = page.dj
    document["result_count"] = len(page.results)
    document["results"] = [_result(row) for row in page.results]
    if page.page_type == "search" or page.has_next_page is not None:
        document["has_next_page"] = bool(page.has_next_page)
    return document


def _result(row: ResultRow) -> dict[str, Any]:
    return {"title": row.title, "url": row.url, "date": row.date}


def _media_links(page: MediaLinksPage) -> dict[str, Any]:
    return {
        "page_type": page.page_type,
        "id_object": page.id_object,
        "id_item": page.id_item,
        "link_count": len(page.links),
        "links": [
            {
                "source": link.source_name,
                "source_id": link.source_id,
                "url": link.url,
                "player_id": link.player_id,
            }
            for link in page.links
        ],
    }

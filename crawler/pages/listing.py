"""Pages that list tracklists: search results, a DJ's tracklist index, the latest (home) page.

All three use the same row markup (``div.bItm.oItm`` with a ``.bTitle`` link and a
``.mediaRow`` of titled cells), so one row reader serves them; the "load more" JSON of a DJ
index (``{success, data: "<rows>", end}``) is read with the same reader.
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

from lxml import etree

from crawler.pages.dom import class_test, clean, first, has_class, parse_html, text_of, to_int
from crawler.pages.errors import ParseError
from crawler.pages.types import ListingKind, ListingPage, ResultRow
from domain.site import tracklist_site_id

_XP = etree.XPath
_ROWS = _XP("//div[" + class_test("oItm") + "]")
_TITLE_LINK = _XP(".//*[" + class_test("bTitle") + "]//a[@href]")
_CELL = _XP(".//*[@title=$name]")
_VIEWS = _XP(".//*[" + class_test("views") + "]/@data-count")
_CREATOR = _XP(".//*[" + class_test("tlUser") + "]//a")
_FLAGS = _XP(".//i[starts-with(@title, 'with ') or contains(@title, 'recording')]/@title")
_PAGINATION_ITEMS = _XP("//ul[" + class_test("pagination") + "]/li")
_HEADINGS = _XP("//h1")
_TOTAL_BADGE = _XP(
    "//div[" + class_test("bItmH") + "]"
    "[contains(., 'search result')]/span[contains(@class, 'badge')]"
)
_OG_TITLE = _XP("//meta[@property='og:title']/@content | //title")
_WINDOW_OPEN = re.compile(r"window\.open\('([^']+)'")
_DJ_HEADING = re.compile(r"^Tracklists By\s+", re.I)


def parse_listing(root: etree._Element, kind: ListingKind, url: str | None = None) -> ListingPage:
    """Parse a search, DJ index or latest-tracklists page."""
    results, skipped = _rows(root)
    warnings = (f"{skipped} result rows without a tracklist link",) if skipped else ()
    if kind == "search":
        return ListingPage(
            page_type=kind,
            results=results,
            has_next_page=_has_next_page(root),
            total_count=to_int(first(_TOTAL_BADGE(root))),
            url=url,
            warnings=warnings,
        )
    dj = _dj_name(root) if kind == "dj_index" else None
    return ListingPage(page_type=kind, results=results, dj=dj, url=url, warnings=warnings)


def parse_load_more(value: object, url: str | None = None) -> ListingPage:
    """Parse the DJ index "load more" JSON: ``{"success": ..., "data": "<rows>", "end": ...}``."""
    if not is_load_more_json(value):
        raise ParseError("dj_index", "no 'data' HTML in the load-more JSON")
    fragment = value["data"]
    results: tuple[ResultRow, ...] = ()
    skipped = 0
    if fragment.strip():
        results, skipped = _rows(parse_html(f"<div>{fragment}</div>", "dj_index"))
    end = value.get("end")
    return ListingPage(
        page_type="dj_index",
        results=results,
        has_next_page=None if end is None else not bool(end),
        url=url,
        warnings=(f"{skipped} result rows without a tracklist link",) if skipped else (),
    )


def is_load_more_json(value: object) -> TypeGuard[dict[str, Any]]:
    """Whether decoded JSON looks like the DJ index's infinite-scroll answer."""
    return isinstance(value, dict) and isinstance(value.get("data"), str)


def _rows(root: etree._Element) -> tuple[tuple[ResultRow, ...], int]:
    results = []
    skipped = 0
    for node in _ROWS(root):
        if not has_class(node, "oItm"):
            continue
        row = _row(node)
        if row is None:
            skipped += 1
        else:
            results.append(row)
    return tuple(results), skipped


def _row(node: etree._Element) -> ResultRow | None:
    links = _TITLE_LINK(node)
    opener = _WINDOW_OPEN.search(node.get("onclick") or "")
    href = links[0].get("href") if links else (opener.group(1) if opener else None)
    if not href:
        return None
    title = clean(text_of(links[0])) if links else ""
    tracklist_id = node.get("data-id") or tracklist_site_id(href)
    genres = _cell(node, "musicstyle(s)")
    return ResultRow(
        title=title,
        url=href,
        tracklist_id=tracklist_id,
        date=_cell(node, "tracklist date"),
        creator=first(_CREATOR(node)),
        views=first(_VIEWS(node)),
        ided=_cell(node, "IDed tracks / total tracks"),
        play_time=_cell(node, "play time"),
        genres=tuple(clean(g) for g in (genres or "").split(",") if clean(g)),
        flags=tuple(str(flag) for flag in _FLAGS(node)),
    )


def _cell(node: etree._Element, name: str) -> str | None:
    return first(_CELL(node, name=name)) or None


def _has_next_page(root: etree._Element) -> bool:
    for item in _PAGINATION_ITEMS(root):
        if clean(text_of(item)).casefold() == "next":
            return "disabled" not in (item.get("class") or "").split()
    return False


def _dj_name(root: etree._Element) -> str | None:
    heading = first(_HEADINGS(root))
    if heading and _DJ_HEADING.match(heading):
        return _DJ_HEADING.sub("", heading) or None
    return clean(first(_OG_TITLE(root))) or None


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None

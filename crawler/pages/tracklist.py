"""Tracklist pages: ``/tracklist/<id>/<slug>.html``, raw HTTP or browser-rendered, 2021-2026.

Header facts come from the heading (``h1`` in ``div#pageTitle`` or ``h1#pageTitle``), the
``#tlTab`` MusicPlaylist metas and the canonical link; rows from :mod:`crawler.pages.rows`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from lxml import etree

from crawler.pages.cues import parse_cue_script
from crawler.pages.dom import clean, first, text_of, to_int
from crawler.pages.errors import DecoyPage, ParseError
from crawler.pages.media import set_recordings
from crawler.pages.rows import RowFacts, read_row
from crawler.pages.types import MashupPart, NamedLink, TrackEntry, TracklistPage
from domain.identity import normalize
from domain.site import DJ_LINK, SOURCE_LINK, tracklist_site_id

_XP = etree.XPath
_MUSIC_STYLES = _XP("//*[@id='tl_music_styles']")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KIND = "tracklist"
# A decoy needs at least this many rows whose microdata disagrees, and more than half of them.
_DECOY_MIN_ROWS = 3
# Below this similarity, a visible artist or title is another name, not an edit of the stored
# one (typos, "(US)" suffixes and cut-short names score far higher; random words far lower).
_SAME_NAME_SIMILARITY = 0.6


@dataclass(slots=True)
class _Landmarks:
    """The page-level elements, found in one pass (XPath scans per element cost more)."""

    tab: etree._Element | None = None
    heading: etree._Element | None = None
    first_h1: etree._Element | None = None
    rows: list[etree._Element] = field(default_factory=list)
    media: list[etree._Element] = field(default_factory=list)
    canonical: str | None = None
    og_url: str | None = None
    title: str | None = None


def _landmarks(root: etree._Element) -> _Landmarks:
    found = _Landmarks()
    for node in root.iter(etree.Element):
        tag = node.tag
        node_id = node.get("id")
        if node_id == "tlTab" and found.tab is None:
            found.tab = node
        elif node_id == "pageTitle" and found.heading is None:
            found.heading = node if tag == "h1" else next(node.iter("h1"), None)
        elif node_id and node_id.startswith("mediaLink") and node.get("data-idsource"):
            found.media.append(node)
        classes = node.get("class")
        if classes and "tlpItem" in classes and "tlpItem" in classes.split():
            found.rows.append(node)
        elif tag == "link" and found.canonical is None and node.get("rel") == "canonical":
            found.canonical = node.get("href")
        elif tag == "meta" and found.og_url is None and node.get("property") == "og:url":
            found.og_url = node.get("content")
        elif tag == "h1" and found.first_h1 is None:
            found.first_h1 = node
        elif tag == "title" and found.title is None:
            found.title = clean(text_of(node))
    return found


def parse_tracklist(root: etree._Element, page_text: str, url: str | None) -> TracklistPage:
    """Parse a tracklist page; raise :class:`ParseError` naming what is missing."""
    found = _landmarks(root)
    tab, elements = found.tab, found.rows
    # Older or stripped pages may lack the #pageTitle wrapper; their first h1 is the heading.
    heading = found.heading if found.heading is not None else found.first_h1
    if tab is None and not elements:
        raise ParseError(_KIND, "no #tlTab and no div.tlpItem rows")
    canonical = found.canonical or found.og_url or url
    tracklist_id = _tracklist_id(canonical, tab, url)
    if tracklist_id is None:
        raise ParseError(_KIND, "no tracklist id (canonical /tracklist/<id>/ or #tlTab data-id)")
    title = clean(text_of(heading)) if heading is not None else ""
    title = title or _tab_meta(tab, "name") or found.title or ""
    if not title:
        raise ParseError(_KIND, "no title (h1#pageTitle, #tlTab name meta or <title>)")

    facts = [fact for fact in (read_row(element) for element in elements) if fact]
    declared_rows = to_int(tab.get("data-count")) if tab is not None else None
    if not facts and (elements or declared_rows):
        # Rows promised but none readable: an empty tracklist here would be a lie.
        raise ParseError(_KIND, f"no readable track row ({len(elements)} div.tlpItem elements)")
    entries = _entries(facts, _script_cues(page_text))
    warnings = []
    if declared_rows is not None and declared_rows != len(facts):
        warnings.append(
            f"page counts {declared_rows} rows (#tlTab data-count) but {len(facts)} were parsed"
        )
    elif declared_rows is None and len(facts) != len(elements):
        warnings.append(f"{len(elements)} div.tlpItem rows but {len(facts)} were parsed")
    evidence = _decoy_evidence(facts)
    if evidence:
        raise DecoyPage(canonical, evidence)
    djs = _links(heading, DJ_LINK) or tuple(
        NamedLink(name, None) for name in _tab_metas(tab, "author")
    )
    return TracklistPage(
        tracklist_id=tracklist_id,
        url=canonical,
        title=title,
        djs=djs,
        sources=_links(heading, SOURCE_LINK),
        date=_date(tab, title),
        genres=_genres(root, tab),
        entries=entries,
        page_id=tab.get("data-id") if tab is not None else None,
        media=set_recordings(found.media),
        declared_row_count=declared_rows,
        declared_track_count=to_int(_tab_meta(tab, "numTracks")),
        parsed_row_count=len(facts),
        warnings=tuple(warnings),
    )


def _decoy_evidence(facts: list[RowFacts]) -> str | None:
    """Why this page is a decoy (the site's answer to suspected bots), or None.

    On genuine pages a row's microdata ``name`` says what its visible credit says, give or
    take an edit, a cut-short stored name or an "(Acappella)"-style extra. A decoy shows
    another artist or title on most rows while the microdata keeps the real ones.
    """
    checked = [fact for fact in facts if fact.microdata_name]
    differing = sum(_names_another_track(fact) for fact in checked)
    if differing >= _DECOY_MIN_ROWS and differing * 2 > len(checked):
        return (
            f"visible track names differ from the page's microdata on {differing} of "
            f"{len(checked)} rows"
        )
    return None


def _names_another_track(fact: RowFacts) -> bool:
    """True when the visible artist or title is another name than the microdata's."""
    stored = (fact.microdata_name or "").split(" - ", 1)
    shown = fact.text.value_display.split(" - ", 1)
    if len(stored) != len(shown):
        return _another_name(" ".join(stored), " ".join(shown))
    return any(_another_name(a, b) for a, b in zip(stored, shown, strict=True))


def _another_name(stored: str, shown: str) -> bool:
    a, b = normalize(stored), normalize(shown)
    if a.startswith(b) or b.startswith(a):  # equal, or one cut short or extended
        return False
    return SequenceMatcher(None, a, b, autojunk=False).ratio() < _SAME_NAME_SIMILARITY


def _entries(facts: list[RowFacts], script_cues: dict[str, int]) -> tuple[TrackEntry, ...]:
    """Number the top-level rows and fold mashup sub-rows into the row above them."""
    entries: list[TrackEntry] = []
    parts: list[MashupPart] = []
    for fact in facts:
        if fact.is_sub_row and entries:
            parts.append(_mashup_part(fact))
            continue
        _flush_parts(entries, parts)
        entries.append(_entry(fact, len(entries) + 1, script_cues))
    _flush_parts(entries, parts)
    return tuple(entries)


def _flush_parts(entries: list[TrackEntry], parts: list[MashupPart]) -> None:
    if entries and parts:
        entries[-1] = replace(entries[-1], mashup_parts=(*entries[-1].mashup_parts, *parts))
    parts.clear()


def _entry(fact: RowFacts, row: int, script_cues: dict[str, int]) -> TrackEntry:
    with_previous = fact.number.casefold() == "w/"
    text = fact.text
    return TrackEntry(
        row=row,
        position=None if with_previous else to_int(fact.number),
        played_with_previous=with_previous,
        cue_ms=fact.cue_ms,
        display=text.display,
        artist=text.artist,
        title=text.title,
        version=text.version,
        label=fact.label,
        is_id=text.is_id,
        track_id=fact.track_id,
        track_url=fact.track_url,
        position_id=fact.position_id,
        script_cue_ms=script_cues.get(fact.content_id) if fact.content_id else None,
        media_item_id=fact.media_item_id,
        media_sources=fact.media_sources,
    )


def _mashup_part(fact: RowFacts) -> MashupPart:
    text = fact.text
    return MashupPart(
        display=text.display,
        artist=text.artist,
        title=text.title,
        version=text.version,
        label=fact.label,
        track_id=fact.track_id,
        track_url=fact.track_url,
    )


def _script_cues(page_text: str) -> dict[str, int]:
    start = page_text.find("cueValuesEntry")
    if start < 0:
        return {}
    end = page_text.rfind("cueValuesEntry")
    return parse_cue_script(page_text[start - 32 : end + 256])


def _tracklist_id(canonical: str | None, tab: etree._Element | None, url: str | None) -> str | None:
    for candidate in (canonical, url):
        site_id = tracklist_site_id(candidate)
        if site_id:
            return site_id
    page_id = tab.get("data-id") if tab is not None else None
    return clean(page_id) or None


def _tab_metas(tab: etree._Element | None, prop: str) -> list[str]:
    if tab is None:
        return []
    return [
        clean(meta.get("content"))
        for meta in tab.iterchildren("meta")
        if meta.get("itemprop") == prop and clean(meta.get("content"))
    ]


def _tab_meta(tab: etree._Element | None, prop: str) -> str | None:
    values = _tab_metas(tab, prop)
    return values[0] if values else None


def _links(heading: etree._Element | None, pattern: re.Pattern[str]) -> tuple[NamedLink, ...]:
    if heading is None:
        return ()
    links = []
    for anchor in heading.iter("a"):
        href = anchor.get("href") or ""
        name = clean(text_of(anchor))
        if name and pattern.match(href):
            links.append(NamedLink(name, href))
    return tuple(links)


def _date(tab: etree._Element | None, title: str) -> str | None:
    published = _tab_meta(tab, "datePublished")
    if published and _ISO_DATE.match(published[:10]):
        return published[:10]
    match = _DATE.search(title)
    return match.group(1) if match else None


def _genres(root: etree._Element, tab: etree._Element | None) -> tuple[str, ...]:
    genres = _tab_metas(tab, "genre")
    if not genres:
        styles = first(_MUSIC_STYLES(root)) or ""
        genres = [clean(genre) for genre in styles.split(",") if clean(genre)]
    return tuple(dict.fromkeys(genres))

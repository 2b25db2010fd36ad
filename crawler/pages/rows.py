"""One track row of a tracklist (``div.tlpItem``; older pages ``tr.tlpItem``).

The row is read from what the page shows (``span.trackValue`` and its siblings), not from
the microdata: the ``itemprop=name``/``byArtist`` metas drop featured artists, differ from the
visible credit, and are absent on "ID - ID" rows. Microdata is used only for links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.pages.cues import parse_visible_cue
from crawler.pages.dom import (
    clean,
    clean_brackets,
    has_class,
    rendered_text,
    text_of,
    to_int,
)

_XP = etree.XPath
_TRACK_LINKS = _XP(".//a[starts-with(@href, '/track/')]/@href")
_MEDIA_SOURCE = re.compile(r"idSource:\s*'([^']{1,16})'")
_TRACK_ID = re.compile(r"/track/([^/]+)/")
# The site's placeholder for "no label"; shown to nobody but present in some markup.
_NO_LABEL = "not on label"
_UNKNOWN = "ID"


@dataclass(frozen=True, slots=True)
class TrackText:
    """The visible credit of a row: ``artist - title (version)``."""

    artist: str
    title: str
    versions: tuple[str, ...]
    has_separator: bool
    # How many of ``versions`` came from outside span.trackValue ("(Acappella)", "(ID Remix)").
    extra_count: int = 0

    @property
    def version(self) -> str | None:
        """Several version brackets (a remix plus "(Acappella)") are joined with ", "."""
        return ", ".join(self.versions) if self.versions else None

    @property
    def display(self) -> str:
        """``Artist - Title (Version)``, as the row reads."""
        head = f"{self.artist} - {self.title}" if self.has_separator else self.title
        suffix = "".join(f" ({version})" for version in self.versions)
        return f"{head}{suffix}"

    @property
    def value_display(self) -> str:
        """:attr:`display` without the extras: what the microdata ``name`` normally says."""
        kept = self.versions[: len(self.versions) - self.extra_count]
        return TrackText(self.artist, self.title, kept, self.has_separator).display

    @property
    def is_id(self) -> bool:
        """The artist or the title is the unknown "ID" (``(ID Remix)`` does not count)."""
        return _UNKNOWN in (self.artist, self.title)


@dataclass(frozen=True, slots=True)
class RowFacts:
    """Everything read from one ``tlpItem`` element, before rows are numbered."""

    text: TrackText
    number: str
    is_sub_row: bool
    cue_ms: int | None
    label: str | None
    microdata_name: str | None
    content_id: str | None
    track_id: str | None
    track_url: str | None
    position_id: int | None
    media_item_id: int | None
    media_sources: tuple[str, ...]


def is_sub_row(row: etree._Element) -> bool:
    """Mashup components (``tlpSubTog``, ``data-mashpos``) belong to the row above them."""
    return row.get("data-mashpos") == "true" or has_class(row, "tlpSubTog")


@dataclass(slots=True)
class _Parts:
    """The first element of each kind inside a row (labels and extras: all of them)."""

    value: etree._Element | None = None
    number: etree._Element | None = None
    cue: etree._Element | None = None
    content_id: str | None = None
    meta_url: str | None = None
    meta_name: str | None = None
    media_row: etree._Element | None = None
    labels: list[etree._Element] = field(default_factory=list)
    extras: list[etree._Element] = field(default_factory=list)


def _parts(row: etree._Element) -> _Parts:
    # One Python pass over the row beats XPath here: a ".//*[contains(@class, ...)]" query
    # per part (or one with many "or"s) cost several times more than walking ~60 elements.
    parts = _Parts()
    for node in row.iter(etree.Element):
        classes = node.get("class")
        if classes and ("track" in classes or "cue" in classes or "mediaRow" in classes):
            _take_class(parts, node, classes.split())
        node_id = node.get("id")
        if node_id:
            if node_id.startswith("tlp"):
                if node_id.endswith("_tracknumber_value") and parts.number is None:
                    parts.number = node
                elif node_id.endswith("_content") and parts.content_id is None:
                    parts.content_id = node_id
        elif not classes and node.tag == "meta":
            prop = node.get("itemprop")
            if prop == "url" and parts.meta_url is None:
                parts.meta_url = node.get("content")
            elif prop == "name" and parts.meta_name is None:
                parts.meta_name = clean(node.get("content")) or None
    return parts


def _take_class(parts: _Parts, node: etree._Element, classes: list[str]) -> None:
    if "trackValue" in classes:
        if parts.value is None:
            parts.value = node
    elif "trackLabel" in classes:
        parts.labels.append(node)
    elif "trackEditData" in classes or "trackStatus" in classes:
        parts.extras.append(node)
    elif "cue" in classes or "cueValueField" in classes:
        if parts.cue is None:
            parts.cue = node
    elif "mediaRow" in classes and parts.media_row is None:
        parts.media_row = node


def read_row(row: etree._Element) -> RowFacts | None:
    """Read one row element; ``None`` when it has no track text at all."""
    parts = _parts(row)
    if parts.value is None:
        return None
    text = _track_text(parts.value, parts.extras)
    if text is None:
        return None
    track_url = parts.meta_url or _last(_TRACK_LINKS(parts.value))
    media_row = parts.media_row
    handlers = "" if media_row is None else _handlers(media_row)
    return RowFacts(
        text=text,
        number=clean(text_of(parts.number)) if parts.number is not None else "",
        is_sub_row=is_sub_row(row),
        cue_ms=parse_visible_cue(clean(text_of(parts.cue))) if parts.cue is not None else None,
        label=_label(parts.labels),
        microdata_name=parts.meta_name,
        content_id=parts.content_id,
        track_id=row.get("data-trackid") or _track_id(track_url),
        track_url=track_url,
        position_id=to_int(row.get("data-id")),
        media_item_id=to_int(media_row.get("data-trackid")) if media_row is not None else None,
        media_sources=tuple(dict.fromkeys(_MEDIA_SOURCE.findall(handlers))),
    )


def _handlers(media_row: etree._Element) -> str:
    """The row's media player handlers, e.g. ``MediaViewer(..., {idSource: '13'})``."""
    return " ".join(node.get("onclick") or "" for node in media_row.iter(etree.Element))


def _track_text(value: etree._Element, extra_nodes: list[etree._Element]) -> TrackText | None:
    raw = [rendered_text(child) for child in value]
    pieces = [clean_brackets(text) for text in raw]
    separator = next((i for i, piece in enumerate(pieces) if piece == "-"), None)
    texts = (
        _unbracket(clean_brackets(rendered_text(extra)))
        for extra in extra_nodes
        if value not in extra.iterancestors()  # already part of the shown credit
    )
    extras = tuple(text for text in texts if text)
    if separator is None:
        return _split_plain(clean_brackets(rendered_text(value)), extras)
    artist = clean_brackets("".join(raw[:separator]))
    after = [piece for piece in pieces[separator + 1 :] if piece]
    if not after:
        return TrackText(artist, "", extras, True, len(extras))
    title, versions = after[0], []
    for piece in after[1:]:
        if piece.startswith("(") and piece.endswith(")"):
            if _unbracket(piece):
                versions.append(_unbracket(piece))
        elif versions:
            versions[-1] = f"{versions[-1]} {piece}"
        else:
            title = f"{title} {piece}"
    return TrackText(artist, title, (*versions, *extras), True, len(extras))


def _split_plain(text: str, extras: tuple[str, ...]) -> TrackText | None:
    """Markup without a separator span: split the shown text at its first " - "."""
    if not text:
        return None
    artist, found, title = text.partition(" - ")
    if not found:
        return TrackText("", text, extras, False, len(extras))
    return TrackText(artist, title, extras, True, len(extras))


def _unbracket(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        return text[1:-1].strip()
    return text


def _label(nodes: list[etree._Element]) -> str | None:
    names: list[str] = []
    for node in nodes:
        name = clean_brackets(rendered_text(node))
        if name and name.casefold() != _NO_LABEL and name not in names:
            names.append(name)
    return " / ".join(names) if names else None


def _last(values: list[object]) -> str | None:
    strings = [value for value in values if isinstance(value, str)]
    return strings[-1] if strings else None


def _track_id(url: str | None) -> str | None:
    match = _TRACK_ID.search(url) if url else None
    return match.group(1) if match else None

"""One track row of a tracklist (``div.tlpItem``; older pages ``tr.tlpItem``).

The row is read from what the page shows (``span.trackValue`` and its siblings), not from
the microdata: the ``itemprop=name``/``byArtist`` metas drop featured artists, differ from the
visible credit, and are absent on "ID - ID" rows. Microdata is used only for links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from crawler.pages.cues import parse_visible_cue
from crawler.pages.dom import (
    class_test,
    clean,
    clean_brackets,
    first,
    has_class,
    rendered_text,
    to_int,
)

_XP = etree.XPath
_TRACK_VALUE = _XP(".//span[" + class_test("trackValue") + "]")
_VERSION_EXTRAS = _XP(
    ".//span[" + class_test("trackEditData") + " or " + class_test("trackStatus") + "]"
)
_LABELS = _XP(".//span[" + class_test("trackLabel") + "]")
_NUMBER = _XP(".//*[contains(@id, '_tracknumber_value')]")
_CUE = _XP(".//div[" + class_test("cue") + " or " + class_test("cueValueField") + "]")
_CONTENT_ID = _XP(".//*[starts-with(@id, 'tlp')][contains(@id, '_content')]/@id")
_META_URL = _XP(".//meta[@itemprop='url']/@content")
_TRACK_LINKS = _XP(".//a[starts-with(@href, '/track/')]/@href")
_MEDIA_ROW = _XP(".//*[" + class_test("mediaRow") + "]")
_ON_CLICK = _XP(".//@onclick")
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
    content_id: str | None
    track_id: str | None
    track_url: str | None
    position_id: int | None
    media_item_id: int | None
    media_sources: tuple[str, ...]


def is_sub_row(row: etree._Element) -> bool:
    """Mashup components (``tlpSubTog``, ``data-mashpos``) belong to the row above them."""
    return row.get("data-mashpos") == "true" or has_class(row, "tlpSubTog")


def read_row(row: etree._Element) -> RowFacts | None:
    """Read one row element; ``None`` when it has no track text at all."""
    values = _TRACK_VALUE(row)
    if not values:
        return None
    text = _track_text(values[0], row)
    if text is None:
        return None
    cue_nodes = _CUE(row)
    track_url = first(_META_URL(row)) or _last(_TRACK_LINKS(values[0]))
    track_id = row.get("data-trackid") or _track_id(track_url)
    media_rows = _MEDIA_ROW(row)
    media_item_id = to_int(media_rows[0].get("data-trackid")) if media_rows else None
    handlers = " ".join(str(handler) for handler in _ON_CLICK(media_rows[0])) if media_rows else ""
    return RowFacts(
        text=text,
        number=first(_NUMBER(row)) or "",
        is_sub_row=is_sub_row(row),
        cue_ms=parse_visible_cue(clean(cue_nodes[0].text_content())) if cue_nodes else None,
        label=_label(row),
        content_id=first(_CONTENT_ID(row)),
        track_id=track_id,
        track_url=track_url,
        position_id=to_int(row.get("data-id")),
        media_item_id=media_item_id,
        media_sources=tuple(dict.fromkeys(_MEDIA_SOURCE.findall(handlers))),
    )


def _track_text(value: etree._Element, row: etree._Element) -> TrackText | None:
    raw = [rendered_text(child) for child in value]
    pieces = [clean_brackets(text) for text in raw]
    separator = next((i for i, piece in enumerate(pieces) if piece == "-"), None)
    extras = tuple(
        _unbracket(clean_brackets(rendered_text(extra)))
        for extra in _VERSION_EXTRAS(row)
        if value not in extra.iterancestors()
    )
    if separator is None:
        return _split_plain(clean_brackets(rendered_text(value)), extras)
    artist = clean_brackets("".join(raw[:separator]))
    after = [piece for piece in pieces[separator + 1 :] if piece]
    if not after:
        return TrackText(artist, "", extras, True)
    title, versions = after[0], []
    for piece in after[1:]:
        if piece.startswith("(") and piece.endswith(")"):
            versions.append(_unbracket(piece))
        elif versions:
            versions[-1] = f"{versions[-1]} {piece}"
        else:
            title = f"{title} {piece}"
    return TrackText(artist, title, (*versions, *(e for e in extras if e)), True)


def _split_plain(text: str, extras: tuple[str, ...]) -> TrackText | None:
    """Markup without a separator span: split the shown text at its first " - "."""
    if not text:
        return None
    artist, found, title = text.partition(" - ")
    if not found:
        return TrackText("", text, tuple(e for e in extras if e), False)
    return TrackText(artist, title, tuple(e for e in extras if e), True)


def _unbracket(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        return text[1:-1].strip()
    return text


def _label(row: etree._Element) -> str | None:
    names: list[str] = []
    for node in _LABELS(row):
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

"""Decoy tracklist pages: the real layout with one part of every track's name randomised.

The site serves clients it flags as bots pages like these (``shared/spec/site-guide.md``,
anti-bot 5). In every named row either the artist or the title is replaced, the same way in
the visible credit (``span.trackValue``), in the row's ``byArtist`` meta (when the artist
changes: it holds no title) and in the artwork's ``alt`` text; the row's microdata ``name``
and its ``/track/`` links keep the real names. "ID - ID" rows name nothing and stay as they are.

The page is edited in place rather than re-serialised: a tag scan of each row finds the text
and attribute values to change, and every other byte is the recorded page's.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

# A row element, as the parser finds rows (``crawler.pages.parse``): a div or tr of class tlpItem.
_ROW_START = re.compile(r"""<(?:div|tr)\b[^<>]*\bclass=["'][^"'<>]*\btlpItem\b""", re.I)
_TOKEN = re.compile(
    r"(?P<skip><!--.*?-->|<(?:script|style)\b.*?</(?:script|style)\s*>)"  # neither text nor tags
    r"|(?P<tag></?[A-Za-z][^\s/>]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)"
    r"|[^<]+|<",  # text (a stray "<" is text too)
    re.S | re.I,
)
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_UNKNOWN = "ID"

_FIRST_NAMES = (
    "Kai", "Mira", "Jonas", "Lena", "Otis", "Nadia", "Theo", "Ines", "Bruno", "Cleo",
    "Rafael", "Yara", "Milo", "Saskia", "Anton", "Dalia", "Emil", "Noor", "Viktor", "Zora",
)  # fmt: skip
_LAST_NAMES = (
    "Morrow", "Vance", "Lindqvist", "Okafor", "Brandt", "Delacroix", "Haller", "Rossi",
    "Novak", "Sato", "Kerrigan", "Duval", "Ferreira", "Wilder", "Aaltonen", "Quinlan",
)  # fmt: skip
_TITLE_WORDS = (
    "Velvet", "Signal", "Midnight", "Echo", "Copper", "Horizon", "Static", "Bloom",
    "Tide", "Glass", "Fever", "Orbit", "Lantern", "Mirage", "Pulse", "Ember",
    "Drift", "Neon", "Harbour", "Shadow", "Silver", "Motion", "Garden", "Voltage",
)  # fmt: skip


@dataclass(eq=False)
class _Element:
    """An element of a row as the tag scan saw it; offsets index the page text."""

    tag: str
    start_tag: str
    start: int  # offset of the start tag
    children: list[_Element] = field(default_factory=list)
    texts: list[tuple[int, int]] = field(default_factory=list)  # text tokens, descendants too

    @cached_property
    def attributes(self) -> dict[str, tuple[str, int, int]]:
        """Name -> (raw value, value start, value end); read only for the elements asked."""
        return _attributes(self.start_tag, self.start)

    def has_class(self, name: str) -> bool:
        # The substring test spares reading the attributes of almost every element.
        return name in self.start_tag and name in self.attributes.get("class", ("",))[0].split()

    def value(self, name: str) -> str | None:
        found = self.attributes.get(name)
        return html.unescape(found[0]) if found is not None else None

    def walk(self) -> Iterator[_Element]:
        yield self
        for child in self.children:
            yield from child.walk()


def decoy_page(body: bytes, rng: random.Random) -> bytes:
    """``body`` with one part of every named row's track name randomised (see the module).

    The same ``rng`` state gives the same page. A page without named rows comes back as it is.
    """
    text = body.decode("utf-8", "surrogateescape")
    starts = [match.start() for match in _ROW_START.finditer(text)]
    edits: list[tuple[int, int, str]] = []
    for number, start in enumerate(starts):
        limit = starts[number + 1] if number + 1 < len(starts) else len(text)
        edits += _row_edits(text, _scan(text, start, limit), rng)
    pieces, done = [], 0
    for start, end, replacement in sorted(edits):
        pieces += [text[done:start], replacement]
        done = end
    pieces.append(text[done:])
    return "".join(pieces).encode("utf-8", "surrogateescape")


def _scan(text: str, start: int, limit: int) -> _Element:
    """The row starting at ``start``, as a tree, up to the end of its credit (or ``limit``)."""
    stack: list[_Element] = []
    root: _Element | None = None
    for match in _TOKEN.finditer(text, start, limit):
        token = match.group()
        if match.group("skip"):
            continue
        if not match.group("tag"):
            for element in stack:
                element.texts.append((match.start(), match.end()))
            continue
        name = _TAG_NAME.match(token)
        assert name is not None  # the tag pattern starts with the name
        tag = name.group(1).lower()
        if token.startswith("</"):
            if any(element.tag == tag for element in stack):
                while (closed := stack.pop()).tag != tag:
                    pass
                # Artwork, metas and the shown credit all come before the credit's end: the
                # rest of the row (media links, user, menus) is not read.
                if not stack or closed.has_class("trackValue"):
                    break
            continue
        element = _Element(tag, token, match.start())
        if stack:
            stack[-1].children.append(element)
        root = root or element
        if tag not in _VOID and not token.endswith("/>"):
            stack.append(element)
    assert root is not None  # the scan starts at a row's start tag
    return root


def _attributes(tag: str, offset: int) -> dict[str, tuple[str, int, int]]:
    found: dict[str, tuple[str, int, int]] = {}
    name = _TAG_NAME.match(tag)
    assert name is not None
    for match in _ATTRIBUTE.finditer(tag, name.end(), len(tag) - 1):
        raw = match.group(2)
        if raw is None:
            continue
        quoted = raw[:1] in "\"'"
        value_start = offset + match.start(2) + quoted
        value = raw[1:-1] if quoted else raw
        found.setdefault(match.group(1).lower(), (value, value_start, value_start + len(value)))
    return found


def _row_edits(text: str, row: _Element, rng: random.Random) -> list[tuple[int, int, str]]:
    elements = list(row.walk())
    value = next((e for e in elements if e.has_class("trackValue")), None)
    named = any(e.tag == "meta" and e.value("itemprop") == "name" for e in elements)
    if value is None or not named:
        return []
    parts = value.children
    separator = next((i for i, part in enumerate(parts) if _text(text, part) == "-"), None)
    if separator is None:
        return []
    by_artist = next(
        (e for e in elements if e.tag == "meta" and e.value("itemprop") == "byArtist"), None
    )
    artists = [part for part in parts[:separator] if _text(text, part)]
    # The artist span the microdata names ("Cari Lekebusch pres." precedes it, "ft. X" follows).
    credited = _clean(by_artist.value("content")) if by_artist is not None else ""
    artist = next(
        (p for p in artists if _text(text, p) == credited), artists[0] if artists else None
    )
    title = next((p for p in parts[separator + 1 :] if _text(text, p)), None)
    choices: list[tuple[str, _Element]] = [
        (kind, part)
        for kind, part in (("artist", artist), ("title", title))
        if part is not None and _text(text, part) != _UNKNOWN
    ]
    if not choices:
        return []
    kind, part = choices[0] if len(choices) == 1 else rng.choice(choices)
    old = _text(text, part)
    new = _invent(kind, old, rng)
    edits = _replace_text(text, part, new)
    if kind == "artist" and by_artist is not None and "content" in by_artist.attributes:
        # "Max Styler & Clüb De Combat" shows as three spans: the credit keeps the others.
        changed = _substitute(credited, old, new, from_end=False) or new
        _, start, end = by_artist.attributes["content"]
        edits.append((start, end, html.escape(changed)))
    artwork = next((e for e in elements if e.tag == "img" and "alt" in e.attributes), None)
    # The alt text reads "Artist Title (Remix) Artwork": the artist leads, the title follows.
    if artwork is not None:
        alt = _substitute(artwork.value("alt") or "", old, new, from_end=kind == "title")
        if alt is not None:
            _, start, end = artwork.attributes["alt"]
            edits.append((start, end, html.escape(alt)))
    return edits


def _substitute(text: str, old: str, new: str, *, from_end: bool) -> str | None:
    """``text`` with one ``old`` (the first, or the last) replaced; None when absent."""
    at = text.rfind(old) if from_end else text.find(old)
    return text[:at] + new + text[at + len(old) :] if at >= 0 else None


def _replace_text(text: str, part: _Element, new: str) -> list[tuple[int, int, str]]:
    """Put ``new`` in the part's first non-blank text token and empty the others."""
    edits: list[tuple[int, int, str]] = []
    for start, end in part.texts:
        token = text[start:end]
        if not token.strip():
            continue
        lead = token[: len(token) - len(token.lstrip())]
        trail = token[len(token.rstrip()) :]
        edits.append((start, end, lead + (html.escape(new) if not edits else "") + trail))
    return edits


def _invent(kind: str, old: str, rng: random.Random) -> str:
    """A plausible artist or title that is not ``old``."""
    while True:
        if kind == "artist":
            name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        else:
            name = " ".join(rng.sample(_TITLE_WORDS, rng.randint(1, 3)))
        if name.casefold() != old.casefold():
            return name


def _text(text: str, element: _Element) -> str:
    return _clean("".join(html.unescape(text[start:end]) for start, end in element.texts))


def _clean(value: str | None) -> str:
    return " ".join(value.split()) if value else ""

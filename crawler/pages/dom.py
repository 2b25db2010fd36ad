"""Bytes to an lxml tree, and the text helpers every parser shares.

Decoding is done here rather than by libxml2 so that a wrong or missing charset degrades to
replacement characters instead of an exception, and so that a proxy's dumped HTTP response
headers in front of ``<!DOCTYPE`` (seen in real captures) do not end up as page text.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from crawler.pages.errors import ParseError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTTP_STATUS = re.compile(r"\AHTTP/\d(?:\.\d)? \d{3}")
_HEADER_END = re.compile(r"\r?\n\r?\n")
_OPEN_BRACKET_SPACE = re.compile(r"([(\[])\s+")
_CLOSE_BRACKET_SPACE = re.compile(r"\s+([)\]])")
# The site's CSS puts spacing on these classes instead of literal spaces in the markup.
_SPACE_BEFORE = frozenset({"spL", "spLR"})
_SPACE_AFTER = frozenset({"spR", "spLR"})
_NO_TEXT_TAGS = frozenset({"script", "style", "template"})

# recover=True keeps going past broken markup; libxml2 also caps nesting depth, so a body
# of millions of nested tags is cut off rather than exhausting memory or the C stack.
_PARSER = etree.HTMLParser(
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
    no_network=True,
    recover=True,
    collect_ids=False,
)


def decode(body: bytes | str) -> str:
    """Decode a response body: BOM, then UTF-8, then the declared charset, then cp1252."""
    return decode_body(body)[0]


def decode_body(body: bytes | str) -> tuple[str, bytes | None]:
    """:func:`decode`, plus ``body`` itself when it already is exactly that text in UTF-8."""
    if isinstance(body, str):
        return _strip_http_headers(body), None
    text, plain_utf8 = _decode_bytes(body)
    stripped = _strip_http_headers(text)
    return stripped, body if plain_utf8 and stripped is text else None


def _decode_bytes(body: bytes) -> tuple[str, bool]:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace"), False
    try:
        return body.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(body[:4096])
    if declared:
        try:
            return body.decode(declared.group(1).decode("ascii"), errors="replace"), False
        except (LookupError, ValueError):
            pass
    return body.decode("cp1252", errors="replace"), False


def _strip_http_headers(text: str) -> str:
    if not _HTTP_STATUS.match(text):
        return text
    end = _HEADER_END.search(text)
    if end is not None:
        return text[end.end() :]
    start = text.find("<")
    return text[start:] if start >= 0 else ""


def parse_html(text: str, page_type: str = "unknown", utf8: bytes | None = None) -> etree._Element:
    """Parse decoded HTML; an empty or unparsable body is a :class:`ParseError`.

    ``utf8`` may pass the original body when it is exactly ``text`` in UTF-8, which saves
    re-encoding a large page.
    """
    if utf8 is None or b"\x00" in utf8:
        utf8 = text.replace("\x00", "").encode("utf-8", errors="replace")
    data = utf8
    if not data.strip():
        raise ParseError(page_type, "empty body")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(page_type, f"unparsable HTML ({exc})") from None
    if root is None:
        raise ParseError(page_type, "no document element")
    return root


def clean(text: str | None) -> str:
    """Collapse runs of whitespace (incl. no-break spaces) to one space and strip."""
    if not text:
        return ""
    return " ".join(text.split())


def clean_brackets(text: str | None) -> str:
    """:func:`clean`, plus no space just inside brackets: ``( Remix )`` -> ``(Remix)``.

    Pretty-printed pages put whitespace inside the bracket markup; the page as displayed
    and its microdata names do not have it.
    """
    text = clean(text)
    if "(" not in text and "[" not in text:
        return text
    return _CLOSE_BRACKET_SPACE.sub(r"\1", _OPEN_BRACKET_SPACE.sub(r"\1", text))


def class_test(name: str) -> str:
    """An XPath predicate: the class attribute contains ``name`` (as a substring).

    Deliberately the cheap substring test: the exact-token form (``concat`` +
    ``normalize-space``) builds a string per element and dominated the parse time. Where a
    substring could over-match, callers re-check with :func:`has_class`.
    """
    return f"contains(@class, '{name}')"


def text_of(element: etree._Element) -> str:
    """All text inside ``element`` (like ``text_content()``), without its own tail."""
    return "".join(element.itertext())


def has_class(element: etree._Element, name: str) -> bool:
    """Whether ``element``'s class attribute contains the token ``name``."""
    classes = element.get("class")
    return bool(classes) and name in classes.split()


def rendered_text(element: etree._Element) -> str:
    """The element's text as a browser shows it: script-free, with CSS spacing classes.

    Walks iteratively (never recursively) so deeply nested hostile input cannot exhaust
    the Python stack.
    """
    if len(element) == 0:  # a leaf (separators, joiners): no walk needed
        text = "" if element.tag in _NO_TEXT_TAGS else element.text or ""
        before, after = _spacing(element)
        return f"{before}{text}{after}"
    parts: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end"), tag=etree.Element):
        before, after = _spacing(node)
        if event == "start":
            parts.append(before)
            if node.text and node.tag not in _NO_TEXT_TAGS:
                parts.append(node.text)
        else:
            parts.append(after)
            if node is not element and node.tail:
                parts.append(node.tail)
    return "".join(parts)


def _spacing(node: etree._Element) -> tuple[str, str]:
    classes = node.get("class")
    if not classes or "sp" not in classes:
        return "", ""
    tokens = set(classes.split())
    return (" " if tokens & _SPACE_BEFORE else ""), (" " if tokens & _SPACE_AFTER else "")


def first(values: list[object]) -> str | None:
    """The first xpath result as a string, or ``None``."""
    for value in values:
        if isinstance(value, str):
            return value
        if isinstance(value, etree._Element):
            return clean(text_of(value))
    return None


def to_int(value: str | None) -> int | None:
    """``int(value)`` for a plain decimal string, else ``None``."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

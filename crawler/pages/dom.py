"""Bytes to an lxml tree, and the text helpers every parser shares.

Decoding is done here rather than by libxml2 so that a wrong or missing charset degrades to
replacement characters instead of an exception, and so that a proxy's dumped HTTP response
headers in front of ``<!DOCTYPE`` (seen in real captures) do not end up as page text.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree, html

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
_SPACES = re.compile(r"\s+")
_OPEN_BRACKET_SPACE = re.compile(r"([(\[])\s+")
_CLOSE_BRACKET_SPACE = re.compile(r"\s+([)\]])")
# The site's CSS puts spacing on these classes instead of literal spaces in the markup.
_SPACE_BEFORE = frozenset({"spL", "spLR"})
_SPACE_AFTER = frozenset({"spR", "spLR"})
_NO_TEXT_TAGS = frozenset({"script", "style", "template"})

# recover=True keeps going past broken markup; libxml2 also caps nesting depth, so a body
# of millions of nested tags is cut off rather than exhausting memory or the C stack.
_PARSER = html.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, recover=True
)


def decode(body: bytes | str) -> str:
    """Decode a response body: BOM, then UTF-8, then the declared charset, then cp1252."""
    text = body if isinstance(body, str) else _decode_bytes(body)
    return _strip_http_headers(text)


def _decode_bytes(body: bytes) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(body[:4096])
    if declared:
        try:
            return body.decode(declared.group(1).decode("ascii"), errors="replace")
        except (LookupError, ValueError):
            pass
    return body.decode("cp1252", errors="replace")


def _strip_http_headers(text: str) -> str:
    if not _HTTP_STATUS.match(text):
        return text
    end = _HEADER_END.search(text)
    if end is not None:
        return text[end.end() :]
    start = text.find("<")
    return text[start:] if start >= 0 else ""


def parse_html(text: str, page_type: str = "unknown") -> html.HtmlElement:
    """Parse decoded HTML; an empty or unparsable body is a :class:`ParseError`."""
    data = text.replace("\x00", "").encode("utf-8", errors="replace")
    if not data.strip():
        raise ParseError(page_type, "empty body")
    try:
        root = html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(page_type, f"unparsable HTML ({exc})") from None
    if root is None:
        raise ParseError(page_type, "no document element")
    return root


def clean(text: str | None) -> str:
    """Collapse runs of whitespace (incl. no-break spaces) to one space and strip."""
    if not text:
        return ""
    return _SPACES.sub(" ", text).strip()


def clean_brackets(text: str | None) -> str:
    """:func:`clean`, plus no space just inside brackets: ``( Remix )`` -> ``(Remix)``.

    Pretty-printed pages put whitespace inside the bracket markup; the page as displayed
    and its microdata names do not have it.
    """
    return _CLOSE_BRACKET_SPACE.sub(r"\1", _OPEN_BRACKET_SPACE.sub(r"\1", clean(text)))


def class_test(name: str) -> str:
    """An XPath predicate: the context node's class attribute has the token ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def has_class(element: etree._Element, name: str) -> bool:
    """Whether ``element``'s class attribute contains the token ``name``."""
    classes = element.get("class")
    return bool(classes) and name in classes.split()


def rendered_text(element: etree._Element) -> str:
    """The element's text as a browser shows it: script-free, with CSS spacing classes.

    Walks iteratively (never recursively) so deeply nested hostile input cannot exhaust
    the Python stack.
    """
    parts: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end")):
        tag = node.tag
        if not isinstance(tag, str):
            continue
        classes = set((node.get("class") or "").split())
        if event == "start":
            if classes & _SPACE_BEFORE:
                parts.append(" ")
            if node.text and tag not in _NO_TEXT_TAGS:
                parts.append(node.text)
        else:
            if classes & _SPACE_AFTER:
                parts.append(" ")
            if node is not element and node.tail:
                parts.append(node.tail)
    return "".join(parts)


def first(values: list[object]) -> str | None:
    """The first xpath result as a string, or ``None``."""
    for value in values:
        if isinstance(value, str):
            return value
        if isinstance(value, etree._Element):
            return clean(value.text_content())
    return None


def to_int(value: str | None) -> int | None:
    """``int(value)`` for a plain decimal string, else ``None``."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

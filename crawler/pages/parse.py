"""The single entry point: any body in, a typed page (or a typed error) out."""

from __future__ import annotations

import re

from crawler.pages.classify import (
    CAPTCHA,
    CHALLENGE,
    DJ_INDEX,
    IP_BLOCKED,
    LATEST,
    MEDIA_LINKS,
    SEARCH,
    TRACKLIST,
    UNKNOWN,
    canonical_url,
    classify_document,
    classify_json,
    expected_kind,
    looks_like_json,
)
from crawler.pages.dom import decode, decode_body, parse_html
from crawler.pages.errors import BlockedPage, PageError, ParseError
from crawler.pages.listing import parse_listing, parse_load_more
from crawler.pages.media import parse_media_links
from crawler.pages.tracklist import parse_tracklist
from crawler.pages.types import ListingKind, ParsedPage

_BLOCKED = (CHALLENGE, CAPTCHA, IP_BLOCKED)
# A tracklist's playlist container and a track row, as element attributes. Rows are checked
# before any anti-bot marker, so a body with both is a tracklist whatever else it holds;
# classify() answers that from the text and skips building a tree (the crawler classifies
# every response before parsing it, and the tree is most of the cost).
_PLAYLIST_TAG = re.compile(r"""<div\b[^<>]*\bid=["']tlTab["']""")
_ROW_TAG = re.compile(r"""<div\b[^<>]*\bclass=["'][^"'<>]*\btlpItem\b""")
# The same markers are ASCII, so they read the same in the bytes of any ASCII-compatible
# encoding: a tracklist in bytes is recognised without decoding it (most of the cost left).
_PLAYLIST_BYTES = re.compile(_PLAYLIST_TAG.pattern.encode())
_ROW_BYTES = re.compile(_ROW_TAG.pattern.encode())
_LISTINGS: dict[str, ListingKind] = {SEARCH: "search", DJ_INDEX: "dj_index", LATEST: "latest"}


def classify(body: bytes | str, url: str | None = None) -> str:
    """Say what a response is: one of :data:`crawler.pages.classify.PAGE_TYPES`.

    Never raises: a body that cannot be read at all is ``"unknown"``.
    """
    if not isinstance(body, bytes | str):
        return UNKNOWN
    if isinstance(body, bytes) and _PLAYLIST_BYTES.search(body) and _ROW_BYTES.search(body):
        return TRACKLIST
    try:
        text = decode(body)
        if _PLAYLIST_TAG.search(text) and _ROW_TAG.search(text):
            return TRACKLIST
        if looks_like_json(text):
            kind, _ = classify_json(text)
            if kind != UNKNOWN:
                return kind
        return classify_document(parse_html(text), text, url)
    except PageError:
        return UNKNOWN


def parse_page(body: bytes | str, url: str | None = None) -> ParsedPage:
    """Classify and parse any response body from the site.

    Raises :class:`BlockedPage` for anti-bot pages and :class:`ParseError` for everything
    that is not a page this package can read; nothing else escapes.
    """
    try:
        return _parse(body, url)
    except PageError:
        raise
    except RecursionError:
        raise ParseError(UNKNOWN, "input nested too deeply to read") from None
    except (ValueError, TypeError, LookupError, UnicodeError, MemoryError) as exc:
        # Last line of defence for hostile input: a library rejecting it is a parse failure.
        raise ParseError(UNKNOWN, f"unreadable input ({type(exc).__name__}: {exc})") from None


def _parse(body: bytes | str, url: str | None) -> ParsedPage:
    if not isinstance(body, bytes | str):
        raise ParseError(UNKNOWN, f"body must be bytes or str, not {type(body).__name__}")
    text, utf8 = decode_body(body)
    if looks_like_json(text):
        kind, value = classify_json(text)
        if kind == MEDIA_LINKS:
            return parse_media_links(value)
        if kind == DJ_INDEX:
            return parse_load_more(value, url)
        if value is not None:
            raise ParseError(UNKNOWN, "JSON that is neither media links nor a load-more answer")
    root = parse_html(text, utf8=utf8)
    kind = classify_document(root, text, url)
    if kind == TRACKLIST:
        return parse_tracklist(root, text, url)
    if kind in _BLOCKED:
        raise BlockedPage(kind, canonical_url(root) or url)
    listing = _LISTINGS.get(kind)
    if listing is not None:
        page = parse_listing(root, listing, canonical_url(root) or url)
        if kind == LATEST and not page.results:
            raise ParseError(LATEST, "no div.oItm tracklist rows")
        return page
    expected = expected_kind(canonical_url(root) or url)
    if expected == TRACKLIST:
        # The URL says tracklist, yet there are no rows and no known block page: never
        # report that as an empty tracklist.
        raise ParseError(TRACKLIST, "no #tlTab or div.tlpItem rows and no anti-bot marker")
    raise ParseError(expected, "no tracklist rows, listing rows or anti-bot markers")

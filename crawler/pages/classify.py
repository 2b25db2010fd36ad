"""What a response is: tracklist, listing, media JSON, or one of the site's anti-bot pages.

Order matters. Track rows (``#tlTab``, ``div.tlpItem``) are checked first because a real,
browser-rendered tracklist may still mention the Turnstile script. Anti-bot pages come next:
they carry a real tracklist's ``<title>`` and canonical URL, so a canonical ``/tracklist/``
URL alone never makes a page a tracklist. The IP block page also shows an image captcha, so
``ip_blocked`` is tested before ``captcha``.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import urlsplit

from lxml import etree

from crawler.pages.dom import clean, first, has_class
from crawler.pages.listing import is_load_more_json
from crawler.pages.media import is_media_links_json

TRACKLIST: Final = "tracklist"
SEARCH: Final = "search"
DJ_INDEX: Final = "dj_index"
LATEST: Final = "latest"
CHALLENGE: Final = "challenge"
CAPTCHA: Final = "captcha"
IP_BLOCKED: Final = "ip_blocked"
MEDIA_LINKS: Final = "media_links"
UNKNOWN: Final = "unknown"
PAGE_TYPES: Final = (
    TRACKLIST,
    SEARCH,
    DJ_INDEX,
    LATEST,
    CHALLENGE,
    CAPTCHA,
    IP_BLOCKED,
    MEDIA_LINKS,
    UNKNOWN,
)

_XP = etree.XPath
_UNBLOCK_FORM = _XP("boolean(//form[contains(@action, 'unblock_ip')])")
_CAPTCHA_SALT = _XP("boolean(//input[@name='cSalt'])")
_FORWARD_FORM = _XP(
    "boolean(//form[translate(@method, 'post', 'POST')='POST']"
    "[.//input[@name='captcha'][@type='hidden']])"
)
_CANONICAL = _XP("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
_TITLE = _XP("//title")
_H1 = _XP("//h1")
_DJ_NAV = _XP("boolean(//nav[@id='nav_inline'][@data-artist])")
_FORWARD_TEXT = re.compile(r"you will be forwar(?:e)?d", re.I)
_TRACKLIST_PATH = re.compile(r"^(?:https?://[^/]*)?/tracklist/[^/]+/")
_DJ_PATH = re.compile(r"^/(?:dj|artist)/[^/]+/")


def classify_json(text: str) -> tuple[str, object]:
    """Classify a JSON-looking body; return the page type and the decoded value."""
    try:
        value: object = json.loads(text)
    except (ValueError, RecursionError):
        return UNKNOWN, None
    if is_media_links_json(value):
        return MEDIA_LINKS, value
    if is_load_more_json(value):
        return DJ_INDEX, value
    return UNKNOWN, value


def looks_like_json(text: str) -> bool:
    """Whether the body starts like a JSON object or array (not like markup)."""
    return text.lstrip()[:1] in ("{", "[")


def classify_document(root: etree._Element, text: str, url: str | None) -> str:
    """Classify a parsed HTML document; ``text`` is the decoded body for text markers."""
    if _has_track_rows(root, text):
        return TRACKLIST
    if _UNBLOCK_FORM(root) or "limited due to overuse" in text:
        return IP_BLOCKED
    if _CAPTCHA_SALT(root) or "validate your are real human" in text:
        return CAPTCHA
    if _FORWARD_FORM(root) or _FORWARD_TEXT.search(text):
        return CHALLENGE
    listing = _listing_kind(root, url)
    if listing is not None:
        return listing
    # A bare Cloudflare Turnstile shell: no rows, no listing, just the challenge widget.
    if "challenges.cloudflare.com/turnstile" in text:
        return CHALLENGE
    return UNKNOWN


def _has_track_rows(root: etree._Element, text: str) -> bool:
    # The substring checks skip two whole-document scans on every non-tracklist page.
    if "tlTab" not in text and "tlpItem" not in text:
        return False
    for node in root.iter():
        if node.get("id") == "tlTab" or (
            "tlpItem" in (node.get("class") or "") and has_class(node, "tlpItem")
        ):
            return True
    return False


def canonical_url(root: etree._Element) -> str | None:
    """The page's canonical (or og:url) URL."""
    return first(_CANONICAL(root))


def _listing_kind(root: etree._Element, url: str | None) -> str | None:
    for candidate in (canonical_url(root), url):
        kind = _kind_from_url(candidate)
        if kind is not None:
            return kind
    if clean(first(_TITLE(root))).startswith("Tracklists search result"):
        return SEARCH
    if _DJ_NAV(root) or clean(first(_H1(root))).startswith("Tracklists By"):
        return DJ_INDEX
    return None


def expected_kind(url: str | None) -> str:
    """The page type a URL should serve (``unknown`` when the URL does not say)."""
    if url and _TRACKLIST_PATH.search(url):
        return TRACKLIST
    return _kind_from_url(url) or UNKNOWN


def _kind_from_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if path.startswith("/search/"):
        return SEARCH
    if _DJ_PATH.match(path):
        return DJ_INDEX
    if path in ("", "/", "/index.html") and "1001tracklists" in url:
        return LATEST
    return None

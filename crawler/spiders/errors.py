"""What a failed crawl request's record says: the error, without the addresses it named.

Crawl-request errors are shown to API clients (``GET /tracklist/status/{id}``, field
``error``), so a failure must not tell them which internal host, address or port answered or
failed to. Texts from Twisted and Scrapy name them freely ("Getting http://10.0.0.5/x took
longer than 180.0 seconds", "robots.txt of 127.0.0.1:8080 failed"): URLs, IP addresses and
``host:port`` pairs are replaced, the rest of the message (what went wrong) is kept. Host
names without a port are kept: the crawler only connects to the configured site's hosts.
"""

from __future__ import annotations

import ipaddress
import re

from crawler.middlewares.redirects import OffSiteRedirect

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]*", re.IGNORECASE)
# Runs of the characters addresses are written with: "10.0.0.5:80", "[::1]:8080", "a.b:443".
_WORD = re.compile(r"[\w.:%\[\]-]+")
_HOST_PORT = re.compile(r"(?P<host>\[[^\]]+\]|[\w.-]+):\d{1,5}")


def error_text(exc: BaseException) -> str:
    """``code: message`` for errors with a stable code, else ``ClassName: message``."""
    if isinstance(exc, OffSiteRedirect):
        return f"{exc.code}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def without_addresses(text: str) -> str:
    """``text`` with URLs, IP addresses and ``host:port`` pairs replaced by placeholders."""
    return _WORD.sub(_scrub_word, _URL.sub("<url>", text))


def _scrub_word(match: re.Match[str]) -> str:
    word = match.group()
    core = word.rstrip(".:")  # sentence punctuation after an address stays
    if _is_address(core):
        return "<address>" + word[len(core) :]
    return word


def _is_address(word: str) -> bool:
    if _is_ip(word.removeprefix("[").removesuffix("]")):
        return True
    host_port = _HOST_PORT.fullmatch(word)
    return host_port is not None and not host_port["host"].isdigit()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True

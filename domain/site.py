"""The site's URLs, known in one place: its hosts, page addresses, ids in links, and intake rules.

- Where the site lives (:data:`PUBLIC_SITE`, :data:`SITE_HOSTS`) and how its links name a
  tracklist, a DJ or a source (:func:`tracklist_site_id`, :func:`dj_slug`,
  :func:`source_ids`, :data:`DJ_LINK`, :data:`SOURCE_LINK`).
- SSRF-safe intake of tracklist URLs (:func:`canonical_tracklist_url`,
  :func:`canonical_public_url`) and of the redirects the site answers (:func:`check_redirect`).

A URL a client sends (``POST /tracklist``, batch requests) is fetched later by a crawl worker,
so it is checked here, before anything connects anywhere: only ``http(s)`` URLs on the
configured site's host (``TRACKLIST_SCRAPING_BASE_URL``, with or without ``www.``), on the
default port, without userinfo, naming a tracklist page. IP literals in every spelling
(``127.0.0.1``, ``[::1]``, ``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are refused outright
rather than resolved. Every redirect hop the crawler meets is held to the same host,
scheme and userinfo rules, on the configured site's own port (:func:`check_redirect`), so
a redirect never takes the crawler to another host.

This module is pure (standard library only): the parsers, the crawler, the use cases and the
API all import it.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from urllib.parse import SplitResult, urljoin, urlsplit

# Clients name tracklists by their public URL whatever site the crawler is pointed at (it maps
# them onto TRACKLIST_SCRAPING_BASE_URL, e.g. the local replay site).
PUBLIC_SITE = "https://www.1001tracklists.com"
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
# /tracklist/<site id>/<slug>.html, as the site writes them (ids are base-36, slugs kebab-case).
_TRACKLIST_PATH = re.compile(
    r"/tracklist/(?P<id>[0-9a-z]{1,32})/(?P<slug>[0-9a-z][0-9a-z_-]*)\.html"
)
# Ids and slugs in the site's own links (absolute or relative; ids are read case as written).
_TRACKLIST_ID = re.compile(r"/tracklist/([A-Za-z0-9]+)/")
_DJ_SLUG = re.compile(r"/(?:dj|artist)/([^/]+)/")
_SOURCE_IDS = re.compile(r"/source/([^/]+)/([^/]+)/")
DJ_LINK = re.compile(r"^(?:https?://[^/]+)?/(?:dj|artist)/")
"""An ``href`` naming a DJ's (or artist's) page."""
SOURCE_LINK = re.compile(r"^(?:https?://[^/]+)?/source/")
"""An ``href`` naming a source's (event, radio show, label) page."""
# Host spellings inet_aton() reads as IPv4: 2130706433, 0x7f000001, 127.1, 0177.0.0.1.
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?")
_HOST_CHARS = re.compile(r"[a-z0-9.-]+")


class Problem(enum.Enum):
    """Why a URL was refused (``UrlRejected.problem``); values are stable identifiers."""

    MALFORMED = "malformed"
    TOO_LONG = "too_long"
    SCHEME = "scheme"
    USERINFO = "userinfo"
    IP_LITERAL = "ip_literal"
    HOST = "host"
    PORT = "port"
    PATH = "path"


class UrlRejected(ValueError):
    """A URL failed the intake rules; ``problem`` says which, the message says how."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def site_hosts(base_url: str) -> frozenset[str]:
    """The host names accepted for ``base_url``: its host with and without ``www.``."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    apex = host.removeprefix("www.")
    return frozenset({apex, f"www.{apex}"})


SITE_HOSTS = site_hosts(PUBLIC_SITE)
"""The public site's host names (``1001tracklists.com`` with and without ``www.``)."""


def tracklist_site_id(url: str | None) -> str | None:
    """The site's id of the tracklist a page address or link names, or None."""
    match = _TRACKLIST_ID.search(url) if url else None
    return match.group(1) if match else None


def dj_slug(url: str | None) -> str | None:
    """The slug of the DJ page a link names (``/dj/<slug>/...``), or None."""
    match = _DJ_SLUG.search(url) if url else None
    return match.group(1) if match else None


def source_ids(url: str | None) -> tuple[str, str] | None:
    """``(site id, slug)`` of the source page a link names (``/source/<id>/<slug>/...``)."""
    match = _SOURCE_IDS.search(url) if url else None
    return (match.group(1), match.group(2)) if match else None


def canonical_public_url(raw: str) -> str:
    """The canonical public URL of a client's tracklist URL; raises :class:`UrlRejected`."""
    return canonical_tracklist_url(raw, PUBLIC_SITE)


def canonical_tracklist_url(url: str, base_url: str) -> str:
    """Check a client-supplied tracklist URL; return its canonical form or raise UrlRejected.

    The canonical form uses the scheme and host of ``base_url``, lower-case id and slug, and
    no port, query or fragment: ``https://www.1001tracklists.com/tracklist/<id>/<slug>.html``.
    """
    parts, port = _split(url)
    host = _check_host(parts.hostname or "", base_url)
    if port is not None and port != _DEFAULT_PORTS[parts.scheme.lower()]:
        raise UrlRejected(Problem.PORT, f"only the default port is accepted (port: {port})")
    match = _TRACKLIST_PATH.fullmatch(parts.path.lower())
    if match is None:
        raise UrlRejected(
            Problem.PATH,
            f"not a tracklist page: the path must be /tracklist/<id>/<slug>.html ({host})",
        )
    base = urlsplit(base_url)
    return f"{base.scheme}://{base.hostname}/tracklist/{match['id']}/{match['slug']}.html"


def check_redirect(location: str, from_url: str, base_url: str) -> str:
    """Check one redirect hop seen while fetching ``from_url``; return its absolute target.

    ``location`` (a ``Location`` header or a meta refresh's URL, relative or absolute) must
    lead to the configured site ``base_url``: an ``http(s)`` URL without userinfo, on one of
    the site's hosts (:func:`site_hosts`; exactly the base's address when that is an IP
    literal, as for the local replay site) and on the site's port (the base URL's port when
    it names one, else the default port of the target's scheme). Anything else raises
    :class:`UrlRejected` before a connection is made. The path is not checked: the site
    redirects listings too, and what a tracklist request lands on is read from the page.
    """
    target = urljoin(from_url, location.strip())
    parts, port = _split(target)
    base = urlsplit(base_url)
    base_host = (base.hostname or "").lower().rstrip(".")
    host = (parts.hostname or "").rstrip(".")  # urlsplit lower-cases it
    if not _is_ip_literal(base_host):
        _check_host(parts.hostname or "", base_url)
    elif host != base_host:  # a site at an address (the local replay) has that one host
        problem = Problem.IP_LITERAL if _is_ip_literal(host) else Problem.HOST
        raise UrlRejected(problem, f"the host {host} is not the tracklist site ({base_host})")
    default = _DEFAULT_PORTS[parts.scheme.lower()]
    wanted = base.port if base.port is not None else default
    if (port if port is not None else default) != wanted:
        raise UrlRejected(Problem.PORT, f"only the site's port is accepted (port: {port})")
    return target


def _split(url: str) -> tuple[SplitResult, int | None]:
    """The parts and port of an http(s) URL without userinfo; raise UrlRejected otherwise."""
    if not isinstance(url, str):
        raise UrlRejected(Problem.MALFORMED, "the URL must be a string")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UrlRejected(Problem.TOO_LONG, f"the URL is longer than {MAX_URL_LENGTH} characters")
    # Control characters and backslashes are silently dropped or reinterpreted by some URL
    # parsers (a classic way to make two parsers disagree about the host), so refuse them.
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        raise UrlRejected(
            Problem.MALFORMED, "the URL contains whitespace, control characters or '\\'"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRejected(Problem.MALFORMED, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"'{scheme}'" if scheme else "none"
        raise UrlRejected(
            Problem.SCHEME, f"only http and https URLs are accepted (scheme: {shown})"
        )
    if "@" in parts.netloc:
        raise UrlRejected(Problem.USERINFO, "URLs with a user name or password are not accepted")
    return parts, port


def _check_host(host: str, base_url: str) -> str:
    """Return the normalized host when it is one of the site's; raise otherwise."""
    host = host.lower()
    if not host:
        raise UrlRejected(Problem.MALFORMED, "the URL has no host")
    if _is_ip_literal(host):
        raise UrlRejected(Problem.IP_LITERAL, f"IP addresses are not accepted ({host})")
    if not _HOST_CHARS.fullmatch(host):
        # Percent-encoded or non-ASCII hosts: no legitimate site link needs them.
        raise UrlRejected(Problem.HOST, f"the host is not the tracklist site ({host!r})")
    host = host.rstrip(".")
    if host not in site_hosts(base_url):
        allowed = ", ".join(sorted(site_hosts(base_url)))
        raise UrlRejected(Problem.HOST, f"the host {host} is not the tracklist site ({allowed})")
    return host


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _NUMERIC_HOST.fullmatch(host) is not None
    return True

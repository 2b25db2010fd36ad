"""Many distinct tracklists from a few real pages, for load tests, benchmarks and demos.

A copy of a page with its site id replaced everywhere (canonical URL, ``data-id``, links) is
a different tracklist to the crawler and the store, with the same realistic markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crawler.localsite.pages import Page, PageStore

_CANONICAL = re.compile(
    rb'<link\s+rel="canonical"\s+href="https?://[^/"]+(/tracklist/([^/"]+)/[^"]*)"'
)
_LISTED = re.compile(r"(/tracklist/([^/?#]+)/[^?#]*)")
SITE = "https://www.1001tracklists.com"


def page_site_id(body: bytes) -> bytes:
    """The site id in a tracklist page's canonical URL; ValueError when there is none."""
    match = _CANONICAL.search(body)
    if match is None:
        raise ValueError("not a tracklist page with a canonical /tracklist/<id>/ URL")
    return match.group(2)


def serve_tracklist_as(store: PageStore, body: bytes, url: str) -> None:
    """Serve a copy of tracklist page ``body`` as the tracklist at ``url`` (its id and path).

    For listings (home, DJ index, search) whose rows link tracklists the replay lacks: the
    copies make every listed link answer a realistic page of its own.
    """
    match = _LISTED.search(url)
    if match is None:
        raise ValueError(f"not a tracklist URL: {url!r}")
    path, new_id = match.group(1), match.group(2)
    original = _CANONICAL.search(body)
    if original is None:
        raise ValueError("not a tracklist page with a canonical /tracklist/<id>/ URL")
    copy = body.replace(original.group(1), path.encode()).replace(
        original.group(2), new_id.encode()
    )
    store.add("GET", path, Page(body=copy, source=f"copy served as {path}"))


def add_distinct_tracklists(store: PageStore, bodies: Sequence[bytes], count: int) -> list[str]:
    """Add ``count`` tracklists to ``store``, cycling through ``bodies``; return their URLs.

    URLs are on the real site's host, as users submit them (the crawler maps them onto the
    local site). Ids are ``s`` plus 7 digits, so they never collide with real 8-character ids
    of the form the site uses.
    """
    templates = [(body, page_site_id(body)) for body in bodies]
    urls = []
    for number in range(count):
        body, old_id = templates[number % len(templates)]
        copy = body.replace(old_id, f"s{number:07d}".encode())
        match = _CANONICAL.search(copy)
        assert match is not None  # the canonical link survives the id change
        path = match.group(1).decode()
        store.add("GET", path, Page(body=copy, source=f"synthetic copy {number}"))
        urls.append(SITE + path)
    return urls

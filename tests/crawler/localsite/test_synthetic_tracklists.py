"""Synthetic copies of real pages are distinct tracklists with the original's rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.localsite import PageStore
from crawler.localsite.synthetic import add_distinct_tracklists, page_site_id
from crawler.pages import TracklistPage, parse_page


def test_copies_parse_as_distinct_tracklists(real_pages: Path) -> None:
    bodies = [p.read_bytes() for p in sorted(real_pages.glob("tracklist_*.html"))]
    store = PageStore()
    urls = add_distinct_tracklists(store, bodies, 2 * len(bodies))
    assert len(set(urls)) == len(urls) == 2 * len(bodies)
    for number, url in enumerate(urls):
        path = url.removeprefix("https://www.1001tracklists.com")
        page = store.find("GET", path, {})
        assert page is not None
        parsed = parse_page(page.body)
        original = parse_page(bodies[number % len(bodies)])
        assert isinstance(parsed, TracklistPage)
        assert isinstance(original, TracklistPage)
        assert parsed.tracklist_id == f"s{number:07d}"
        assert parsed.url == url
        assert len(parsed.entries) == len(original.entries)


def test_a_page_without_canonical_tracklist_url_is_refused() -> None:
    with pytest.raises(ValueError, match="canonical"):
        page_site_id(b"<html><head></head><body>nothing</body></html>")

"""The demo site's pages read like the real site's: listing, cues, "w/" rows, IDs."""

from __future__ import annotations

from crawler.localsite.demo import DEMO_SETS, demo_store, home_page, tracklist_page
from crawler.pages import ListingPage, TracklistPage, parse_page, to_document


def test_home_lists_every_demo_set() -> None:
    page = parse_page(home_page())
    assert isinstance(page, ListingPage)
    assert page.page_type == "latest"
    assert [row.url for row in page.results] == [demo.path for demo in DEMO_SETS]


def test_demo_tracklists_parse_without_warnings() -> None:
    for demo in DEMO_SETS:
        page = parse_page(tracklist_page(demo))
        assert isinstance(page, TracklistPage)
        assert page.warnings == ()
        assert (page.tracklist_id, page.title, page.date) == (demo.site_id, demo.title, demo.date)
        assert [e.title for e in page.entries] == [t.title for t in demo.tracks]


def test_demo_shows_the_tricky_rows() -> None:
    entries = to_document(parse_page(tracklist_page(DEMO_SETS[0])))["entries"]
    identified = next(e for e in entries if e["is_id"])
    assert identified["cue_seconds"] == 930
    layered = next(e for e in entries if e["played_with_previous"])
    assert (layered["position"], layered["cue_seconds"], layered["version"]) == (
        None,
        None,
        "Acappella",
    )
    assert entries[-1]["cue_seconds"] == 3730  # H:MM:SS


def test_store_serves_home_and_every_set() -> None:
    store = demo_store()
    assert store.find("GET", "/", {}) is not None
    for demo in DEMO_SETS:
        assert store.find("GET", demo.path, {}) is not None

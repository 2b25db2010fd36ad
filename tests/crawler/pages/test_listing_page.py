"""Listing pages beyond the golden fields, the DJ "load more" JSON and the media-link JSON."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.pages import ListingPage, MediaLinksPage, classify, parse_page, to_document

FIXTURES = Path(__file__).parent / "fixtures"


def test_load_more_json_is_a_dj_index_batch() -> None:
    body = (FIXTURES / "dj_load_more.json").read_bytes()
    assert classify(body) == "dj_index"
    page = parse_page(body)
    assert isinstance(page, ListingPage)
    assert [row.tracklist_id for row in page.results] == ["aa11bb22", "cc33dd44"]
    assert page.results[0].genres == ("Techno", "House")
    assert page.has_next_page is True
    document = to_document(page)
    assert document["result_count"] == 2
    assert document["has_next_page"] is True


def test_last_load_more_batch_may_be_empty() -> None:
    page = parse_page(json.dumps({"success": True, "data": "", "end": True}))
    assert isinstance(page, ListingPage)
    assert page.results == ()
    assert page.has_next_page is False


def test_search_rows_carry_extra_facts(real_pages: Path) -> None:
    page = parse_page((real_pages / "search_time-warp-2024.html").read_bytes())
    assert isinstance(page, ListingPage)
    first = page.results[0]
    assert first.tracklist_id == "vj9whst"
    assert first.creator == "Kilo"
    assert first.ided == "all/27"
    assert first.views == "1.5k"
    assert "with soundcloud link" in first.flags
    assert page.total_count == 1000
    assert page.has_next_page is True


def test_media_link_json(real_pages: Path) -> None:
    body = (real_pages / "ajax_get-medialink_909720.json").read_bytes()
    assert classify(body) == "media_links"
    page = parse_page(body)
    assert isinstance(page, MediaLinksPage)
    assert page.id_item == "909720"
    spotify = [link for link in page.links if link.source_name == "spotify"]
    assert spotify[0].url == "https://open.spotify.com/embed/track/5ly24DpozyrKv1FFDivUHx?theme=0"
    assert spotify[0].player_id == "5ly24DpozyrKv1FFDivUHx"
    assert to_document(page)["link_count"] == len(page.links)

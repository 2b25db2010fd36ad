"""The typed tracklist carries more than the document: cue in ms, links, media, counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pages import BlockedPage, TracklistPage, parse_page

MAX_STYLER = "tracklist_1pmwyfn1_max-styler_edc-las-vegas_2025-05-16.html"
MATRODA = "tracklist_l3uw499_matroda_club-space-miami_2023-08-05.html"
CURBI = "tracklist_2wh7m6xk_curbi_tape-06_2021-03-12.html"
SVEN = "tracklist_25fhn7c9_sven-vath_time-warp-mannheim_2024-10-25.rendered.html"


def _tracklist(real_pages: Path, name: str) -> TracklistPage:
    page = parse_page((real_pages / name).read_bytes())
    assert isinstance(page, TracklistPage)
    return page


def test_cues_are_milliseconds_and_h_mm_ss(real_pages: Path) -> None:
    page = _tracklist(real_pages, MAX_STYLER)
    by_row = {entry.row: entry for entry in page.entries}
    assert by_row[2].cue_ms == 227_000
    assert by_row[20].cue_ms == 3_776_000  # "1:02:56"
    assert by_row[1].cue_ms is None
    assert by_row[1].script_cue_ms == 0
    assert by_row[13].cue_ms is None
    assert by_row[13].script_cue_ms == 2_325_000


def test_visible_cue_wins_over_script(real_pages: Path) -> None:
    row_25 = _tracklist(real_pages, MATRODA).entries[24]
    assert row_25.played_with_previous
    assert row_25.cue_ms == 4_650_000
    assert row_25.script_cue_ms == 4_590_000


def test_links_ids_and_media(real_pages: Path) -> None:
    page = _tracklist(real_pages, MAX_STYLER)
    assert page.djs[0].url == "/dj/maxstyler/index.html"
    assert page.sources[0].url == "/source/unkguv/edc-las-vegas/index.html"
    first = page.entries[0]
    assert first.track_id == "g9c4gj7p"
    assert first.track_url == "/track/g9c4gj7p/max-styler-i-know-you-want-to/index.html"
    assert first.media_item_id == 1073782
    assert first.media_sources == ("13", "10", "36", "2", "affiliate")
    assert [link.source_name for link in page.media] == ["youtube", "soundcloud", "apple_music"]
    assert page.media[0].url == "https://www.youtube.com/embed/N40pkDgwNfg"
    assert page.media[1].url is not None
    assert "api.soundcloud.com/tracks/2099378310" in page.media[1].url
    assert page.declared_row_count == 30
    assert page.declared_track_count == 31
    assert page.parsed_row_count == 30
    assert page.warnings == ()


def test_id_rows_have_no_track_link(real_pages: Path) -> None:
    page = _tracklist(real_pages, SVEN)
    unknown = [entry for entry in page.entries if entry.is_id]
    assert len(unknown) == 10
    assert all(entry.track_url is None and entry.track_id is None for entry in unknown)


def test_mashup_parts_are_typed(real_pages: Path) -> None:
    page = _tracklist(real_pages, CURBI)
    parts = page.entries[1].mashup_parts
    assert [part.artist for part in parts] == ["Chico Rose x 71 Digits", "AC Slater & Curbi"]
    assert parts[0].version == "Bancali Remix"
    assert parts[0].label == "SPINNIN'"
    assert parts[0].track_id == "1zwklpvf"
    assert page.page_id == "2wh7m6xk"
    assert page.tracklist_id == "nsgpmht"
    assert page.parsed_row_count == 31 == page.declared_row_count


def test_url_argument_is_used_only_when_page_has_none(real_pages: Path) -> None:
    page = parse_page((real_pages / MATRODA).read_bytes(), url="https://example.org/x")
    assert isinstance(page, TracklistPage)
    assert page.url is not None
    assert (
        page.url
        == "https://www.1001tracklists.com/tracklist/l3uw499/matroda-club-space-miami-united-states-2023-08-05.html"
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("challenge_jsforward_tracklist-2hjnqr0t_2023.html", "challenge"),
        ("block_ip-limited_tracklist-l3uw499_2026.html", "ip_blocked"),
        ("captcha_image_tracklist-25fhn7c9_2026.excerpt.html", "captcha"),
    ],
)
def test_blocked_page_names_its_canonical_url(real_pages: Path, name: str, kind: str) -> None:
    with pytest.raises(BlockedPage) as blocked:
        parse_page((real_pages / name).read_bytes())
    assert blocked.value.page_type == kind
    assert blocked.value.url is not None
    assert "/tracklist/" in blocked.value.url

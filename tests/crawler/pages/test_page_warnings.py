"""A page that parses but looks wrong is reported on the item, not hidden."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from crawler.pages import BlockedPage, DecoyPage, TracklistPage, parse_page, to_document

FIXTURES = Path(__file__).parent / "fixtures"


def _short_html_counting(rows: int) -> str:
    html = (FIXTURES / "short_tracklist.html").read_text()
    return html.replace('data-count="3"', f'data-count="{rows}"')


def _short() -> TracklistPage:
    page = parse_page((FIXTURES / "short_tracklist.html").read_bytes())
    assert isinstance(page, TracklistPage)
    return page


def test_row_count_mismatch_is_a_warning() -> None:
    page = _short()
    assert page.declared_row_count == 3
    assert page.parsed_row_count == 2
    assert page.warnings == ("page counts 3 rows (#tlTab data-count) but 2 were parsed",)
    assert to_document(page)["warnings"] == list(page.warnings)


def test_rows_with_no_track_text_are_not_counted_as_parsed() -> None:
    html = _short_html_counting(2)
    broken = html.replace('<span class="trackValue"><span>ID</span>', "<span><span>ID</span>")
    page = parse_page(broken)
    assert isinstance(page, TracklistPage)
    assert len(page.entries) == 1
    assert page.warnings == ("page counts 2 rows (#tlTab data-count) but 1 were parsed",)


def test_clean_page_has_no_warnings_key() -> None:
    html = _short_html_counting(2)
    document = to_document(parse_page(html))
    assert "warnings" not in document


def test_hand_made_page_fields() -> None:
    page = _short()
    assert [dj.name for dj in page.djs] == ["Test DJ", "Other DJ"]
    assert [source.name for source in page.sources] == ["Hand Made Club"]
    first, second = page.entries
    assert (first.artist, first.title, first.version) == ("Artist One", "First Song", "Someone Dub")
    assert first.display == "Artist One - First Song (Someone Dub)"
    assert first.cue_ms == 0  # a visible 0:00 is a real cue
    assert first.label == "HOUSE LABEL"
    assert second.is_id
    assert second.cue_ms == 3_723_000
    assert second.label is None


def _row(number: int, meta_name: str, artist: str, title: str) -> str:
    return (
        f'<div class="tlpItem" data-id="{number}"><span id="tlp{number}_tracknumber_value">'
        f'{number}</span><div id="tlp{number}_content"><meta itemprop="name" content="{meta_name}">'
        f'<span class="trackValue"><span>{artist}</span><span> - </span><span>{title}</span>'
        "</span></div></div>"
    )


def _page(rows: list[str]) -> str:
    return (
        '<html><head><link rel="canonical" href="https://www.1001tracklists.com/tracklist/d1/x.html">'
        f'</head><body><h1 id="pageTitle">X</h1><div id="tlTab" data-count="{len(rows)}">'
        + "".join(rows)
        + "</div></body></html>"
    )


def test_a_decoy_page_is_an_anti_bot_answer() -> None:
    rows = [
        _row(1, "Bicep - Atlas", "Qwerty Zork", "Atlas"),  # the artist invented
        _row(2, "Dusky - Wildfire", "Dusky", "Stoo Blam"),  # the title invented
        _row(3, "Phara - Evoke", "Frab Nol", "Evoke"),
        _row(4, "Overmono - So U Kno", "Overmono", "So U Kno"),
    ]
    with pytest.raises(DecoyPage) as raised:
        parse_page(_page(rows))
    assert isinstance(raised.value, BlockedPage)
    assert raised.value.page_type == "decoy"
    assert raised.value.url == "https://www.1001tracklists.com/tracklist/d1/x.html"
    assert raised.value.evidence == (
        "visible track names differ from the page's microdata on 3 of 4 rows"
    )


def test_an_invented_short_title_beside_a_long_artist_is_seen() -> None:
    artist = "Carl Cox & Christopher Coe & Friends"
    rows = [_row(n, f"{artist} - Go {n}", artist, f"Zq {n}") for n in range(1, 6)]
    with pytest.raises(DecoyPage):
        parse_page(_page(rows))


def test_edits_extras_and_cut_short_names_are_not_a_decoy() -> None:
    rows = [
        _row(1, "Sully (US) - 5ives", "Sully", "5ives"),  # the stored name says more
        _row(2, "Dusky - Wildfire", "Dusky", "Wildfire (Acappella)"),  # an extra shown
        _row(3, "Adam Beyer - Your Mind", "Adam Beyr", "Your Mind"),  # a typo fixed
        _row(4, "Four Tet - Baby (Original M", "Four Tet", "Baby (Original Mix)"),  # cut short
        _row(5, "Phara - Evoke", "Phara", "Evoke"),
    ]
    page = parse_page(_page(rows))
    assert isinstance(page, TracklistPage)
    assert page.warnings == ()


def test_a_few_rows_naming_other_tracks_are_not_a_decoy() -> None:
    rows = [_row(n, f"Artist {n} - Title {n}", f"Artist {n}", f"Title {n}") for n in range(1, 9)]
    rows[0] = _row(1, "Bicep - Atlas", "Qwerty Zork", "Blim")  # the site's own mix-ups
    rows[1] = _row(2, "Dusky - Wildfire", "Frab Nol", "Stoo")
    rows[2] = _row(3, "Phara - Evoke", "Glib Mox", "Evoke")
    page = parse_page(_page(rows))
    assert isinstance(page, TracklistPage)


def test_no_real_page_is_taken_for_a_decoy(real_pages: Path) -> None:
    pages = sorted(real_pages.glob("tracklist_*.html"))
    assert pages
    for path in pages:
        assert isinstance(parse_page(path.read_bytes()), TracklistPage), path.name


def test_a_real_page_with_its_titles_invented_is_a_decoy(real_pages: Path) -> None:
    body = (real_pages / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html").read_bytes()
    root = lxml.html.fromstring(body)
    changed = 0
    # The title is the last part of a row's visible credit: "<artist> - <title>".
    for title in root.xpath("//span[contains(@class, 'trackValue')]/span[last()]//span"):
        title.text = f"Invented {changed} Qx"
        changed += 1
    assert changed >= 10
    with pytest.raises(DecoyPage):
        parse_page(
            lxml.html.tostring(root), "https://www.1001tracklists.com/tracklist/2hjnqr0t/x.html"
        )


def test_truncated_real_page_reports_missing_rows(real_pages: Path) -> None:
    body = (real_pages / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html").read_bytes()
    page = parse_page(body[:100_000])  # cut inside row 10 of 14
    assert isinstance(page, TracklistPage)
    assert len(page.entries) < 14
    assert page.warnings == (
        f"page counts 14 rows (#tlTab data-count) but {page.parsed_row_count} were parsed",
    )

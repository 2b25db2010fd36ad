"""Decoy pages randomise one part of each named row's name and keep microdata names and links."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from crawler.localsite.decoy import decoy_page
from crawler.localsite.demo import DEMO_SETS, tracklist_page
from crawler.pages import DecoyPage, TracklistPage, parse_page
from crawler.pages.dom import parse_html
from crawler.pages.rows import RowFacts, read_row


@dataclass(frozen=True)
class Row:
    """What a decoy may change in a row, and what it must keep."""

    facts: RowFacts
    by_artist: str | None
    alt: str | None
    track_links: tuple[str, ...]


def rows(body: bytes) -> list[Row]:
    found = []
    for element in parse_html(body.decode("utf-8")).iter(etree.Element):
        if "tlpItem" not in (element.get("class") or "").split():
            continue
        facts = read_row(element)
        assert facts is not None
        metas = [m.get("content") for m in element.iter("meta") if m.get("itemprop") == "byArtist"]
        alts = [img.get("alt") for img in element.iter("img")]
        links = tuple(a.get("href") or "" for a in element.iter("a"))
        found.append(
            Row(
                facts,
                metas[0] if metas else None,
                alts[0] if alts else None,
                tuple(link for link in links if link.startswith("/track/")),
            )
        )
    return found


@pytest.fixture(scope="module")
def tracklists(real_pages: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(real_pages.glob("tracklist_*.html"))]


def test_every_named_row_changes_one_part_and_keeps_its_microdata_name(
    tracklists: list[bytes],
) -> None:
    for body in tracklists:
        decoy = decoy_page(body, random.Random(5))
        true_rows, decoy_rows = rows(body), rows(decoy)
        assert len(true_rows) == len(decoy_rows)
        for true, fake in zip(true_rows, decoy_rows, strict=True):
            assert fake.facts.microdata_name == true.facts.microdata_name
            assert fake.facts.track_url == true.facts.track_url
            assert fake.track_links == true.track_links
            if true.facts.microdata_name is None:  # "ID - ID": nothing named, nothing changed
                assert fake == true
                continue
            artist_changed = fake.facts.text.artist != true.facts.text.artist
            title_changed = fake.facts.text.title != true.facts.text.title
            assert artist_changed != title_changed, true.facts.text.display
            assert fake.facts.text.versions == true.facts.text.versions
            # byArtist follows the artist; the alt text follows whichever part changed.
            assert (fake.by_artist != true.by_artist) == artist_changed
            alt, by_artist = true.alt or "", true.by_artist or ""
            if title_changed and true.facts.text.title in alt:
                assert fake.alt != true.alt
            if artist_changed and by_artist and alt.startswith(by_artist):
                assert not (fake.alt or "").startswith(by_artist)


def test_both_parts_are_randomised_across_a_page(tracklists: list[bytes]) -> None:
    body = tracklists[0]
    pairs = zip(rows(body), rows(decoy_page(body, random.Random(1))), strict=True)
    changed = {
        "artist" if fake.facts.text.artist != true.facts.text.artist else "title"
        for true, fake in pairs
        if true.facts.microdata_name
    }
    assert changed == {"artist", "title"}


def test_a_decoy_keeps_the_page_and_is_told_by_the_parser(tracklists: list[bytes]) -> None:
    for body in tracklists:
        true = parse_page(body)
        assert isinstance(true, TracklistPage)
        with pytest.raises(DecoyPage) as seen:
            parse_page(decoy_page(body, random.Random(2)))
        assert seen.value.url == true.url  # the same tracklist, as far as its heading says
        assert "visible track names differ from the page's microdata" in seen.value.evidence
        # Only inside the rows: everything before the first row is the recorded page's.
        first_row = body.index(b"tlpItem")
        assert decoy_page(body, random.Random(2))[:first_row] == body[:first_row]


def test_the_same_random_state_gives_the_same_decoy(tracklists: list[bytes]) -> None:
    body = tracklists[2]
    assert decoy_page(body, random.Random(9)) == decoy_page(body, random.Random(9))
    assert decoy_page(body, random.Random(9)) != decoy_page(body, random.Random(10))


def test_pages_without_named_rows_come_back_unchanged(real_pages: Path) -> None:
    # The demo's sets carry no microdata; a listing has no track rows at all.
    demo = tracklist_page(DEMO_SETS[0])
    assert decoy_page(demo, random.Random(1)) == demo
    home = (real_pages / "home_2022-11-13.html").read_bytes()
    assert decoy_page(home, random.Random(1)) == home

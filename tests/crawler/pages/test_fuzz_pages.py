"""Hostile input never raises anything but the typed :class:`PageError`.

Runs briefly by default; set ``FUZZ_EXAMPLES`` (e.g. ``FUZZ_EXAMPLES=5000``) to fuzz longer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.pages import PAGE_TYPES, PageError, ParseError, classify, parse_page, to_document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REAL_PAGES = Path(__file__).resolve().parents[3].parent / "shared" / "real-pages"
PAGE_NAMES = sorted(
    path.name for path in REAL_PAGES.glob("*.*") if path.suffix in (".html", ".json")
)

# Pieces of the site's markup, so random documents reach deep into every parser.
TOKENS = [
    '<div id="tlTab" data-count="2" data-id="abc">',
    '<div class="tlpTog bItm tlpItem" data-id="7" data-trackid="x1">',
    '<div class="tlpSubTog tlpItem con" data-mashpos="true">',
    '<span class="trackValue">',
    '<span class="trackEditData">(Acappella)</span>',
    '<span class="trackStatus"> (ID Remix) </span>',
    '<span title="label" class="trackLabel">',
    '<span id="tlp0_tracknumber_value">',
    '<div id="tlp0_content">',
    '<div class="cue">',
    '<div class="mediaRow" data-trackid="12"><i onclick="x({idSource: \'13\'})"></i></div>',
    '<meta itemprop="url" content="/track/zz/a/index.html">',
    '<meta itemprop="genre" content="Techno">',
    '<div id="pageTitle"><h1>',
    '<a href="/dj/x/index.html">',
    '<a href="/source/y/z/index.html">',
    '<link rel="canonical" href="https://www.1001tracklists.com/tracklist/ab12/x.html">',
    '<link rel="canonical" href="https://www.1001tracklists.com/">',
    '<link rel="canonical" href="https://www.1001tracklists.com/search/result.php">',
    '<div class="bItm oItm" data-id="q" onclick="window.open(\'/tracklist/q/x.html\')">',
    '<div class="bTitle"><a href="/tracklist/q/x.html">',
    '<div title="tracklist date">',
    '<ul class="pagination"><li class="disabled">Next</li></ul>',
    '<nav id="nav_inline" data-artist="q"></nav><h1>Tracklists By ',
    '<div class="mediaLink" id="mediaLink1" data-idsource="13" data-idmedia="x">',
    "<script>cueValuesEntry = {}; cueValuesEntry.seconds = 5; "
    "cueValuesEntry.ids[0] = 'tlp0_content';</script>",
    '<form method="post"><input name="captcha" type="hidden"></form>',
    '<form action="/info/unblock_ip.html"><input name="cSalt"></form>',
    "Please wait, you will be forwarded",
    "challenges.cloudflare.com/turnstile",
    "</span>",
    "</div>",
    "</h1>",
    "</a>",
    " - ",
    "ID",
    "w/",
    "01",
    "(",
    ")",
    "1:02:03",
    "99:99",
    "&amp;",
    "\x00",
    "\ufeff",
]
MARKUP = st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=60).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["data", "success", "end", "source", "player", "id"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
SITE_JSON = st.fixed_dictionaries(
    {
        "data": st.lists(
            st.fixed_dictionaries(
                {"source": JSON_VALUES},
                optional={"player": JSON_VALUES, "playerId": JSON_VALUES, "id": JSON_VALUES},
            ),
            max_size=3,
        )
        | MARKUP
    },
    optional={"end": JSON_VALUES, "success": JSON_VALUES},
)
URLS = (
    st.none()
    | st.text(max_size=40)
    | st.sampled_from(
        ["https://www.1001tracklists.com/", "/search/result.php", "/dj/x/index.html", "http://[::1"]
    )
)


def assert_typed(body: bytes | str, url: str | None = None) -> None:
    """Parse, and require either a serialisable page or a PageError; classify never raises."""
    assert classify(body, url) in PAGE_TYPES
    try:
        page = parse_page(body, url)
    except PageError:
        return
    json.dumps(to_document(page))


@FUZZ
@given(body=st.binary(max_size=4000), url=URLS)
def test_random_bytes(body: bytes, url: str | None) -> None:
    assert_typed(body, url)


@FUZZ
@given(body=st.text(max_size=2000))
def test_random_text(body: str) -> None:
    assert_typed(body)


@FUZZ
@given(body=MARKUP, url=URLS)
def test_random_site_markup(body: str, url: str | None) -> None:
    assert_typed(body, url)
    assert_typed(body.encode("utf-16"), url)


@FUZZ
@given(value=JSON_VALUES | SITE_JSON)
def test_json_bodies(value: object) -> None:
    assert_typed(json.dumps(value))


@FUZZ
@given(
    name=st.sampled_from(PAGE_NAMES or ["missing"]),
    cut=st.floats(min_value=0, max_value=1),
    flips=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 255)), max_size=8),
)
def test_truncated_and_corrupted_real_pages(
    real_pages: Path, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    body = bytearray((real_pages / name).read_bytes())
    for where, byte in flips:
        body[int(where * (len(body) - 1))] = byte
    assert_typed(bytes(body[: int(cut * len(body))]))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t",
        b"\x00" * 64,
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"<",
        b"<html>",
        b"<!DOCTYPE html>",
        b"{}",
        b"[]",
        b"null",
        b'"text"',
        b"{" * 5000,
        b"[" * 100_000,
        b'{"data": "<div class=\\"oItm\\">"}',
        b'{"success": false}',
        b"HTTP/1.1 200 OK\r\n",
        "\ud800 lone surrogate".encode("utf-8", "surrogatepass"),
    ],
)
def test_degenerate_bodies(body: bytes) -> None:
    assert_typed(body)


@pytest.mark.parametrize("body", [None, 42, ["<html>"]])
def test_wrong_argument_types_are_parse_errors(body: object) -> None:
    with pytest.raises(ParseError):
        parse_page(body)  # type: ignore[arg-type]
    assert classify(body) == "unknown"  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "latin-1", "cp1252", "shift_jis", "koi8-r"])
def test_wrong_encodings_of_a_real_tracklist(real_pages: Path, codec: str) -> None:
    text = (
        real_pages / "tracklist_25fhn7c9_sven-vath_time-warp-mannheim_2024-10-25.rendered.html"
    ).read_text()
    body = text.encode(codec, errors="replace")
    assert_typed(body)
    if codec.startswith("utf-"):
        # With a BOM the page is still read correctly, whatever its meta charset says.
        assert to_document(parse_page(body))["entry_count"] == 52


def test_ten_megabytes_of_nested_tags() -> None:
    assert_typed(b"<div>" * 2_000_000)
    row = b'<div id="tlTab" data-count="1"><div class="tlpItem"><span class="trackValue">'
    assert_typed(row + b"<span>" * 1_700_000 + b"A - B")


def test_huge_flat_tracklist() -> None:
    row = (
        '<div class="tlpItem"><span id="tlp0_tracknumber_value">01</span>'
        '<div class="cue">1:00</div>'
        '<span class="trackValue"><span>A</span><span> - </span><span>B</span></span></div>'
    )
    body = '<div id="tlTab" data-count="1">' + row * 40_000 + "</div>"
    assert_typed(body)

"""The classifier on hand-made bodies: markers, precedence, and never an empty tracklist."""

from __future__ import annotations

import pytest

from crawler.pages import BlockedPage, ParseError, TracklistPage, classify, parse_page

CANONICAL = '<link rel="canonical" href="https://www.1001tracklists.com/tracklist/ab12cd/x.html">'


def page(*parts: str) -> str:
    return (
        "<!DOCTYPE html><html><head>"
        + CANONICAL
        + "</head><body>"
        + "".join(parts)
        + "</body></html>"
    )


ROW = (
    '<div class="tlpTog bItm tlpItem" data-id="1"><span id="tlp0_tracknumber_value">01</span>'
    '<span class="trackValue"><span>A</span><span> - </span><span>B</span></span></div>'
)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (page('<form method="POST"><input type="hidden" name="captcha"></form>'), "challenge"),
        (page("Please wait, you will be forwared to the wanted page"), "challenge"),
        (
            page('<script src="https://challenges.cloudflare.com/turnstile/v0/api.js"></script>'),
            "challenge",
        ),
        (
            page('<form action=""><input type="hidden" name="cSalt"><input name="captcha"></form>'),
            "captcha",
        ),
        (page('<form action="/info/unblock_ip.html"><input name="cSalt"></form>'), "ip_blocked"),
        (page("has been limited due to overuse", '<input name="cSalt">'), "ip_blocked"),
        # Rows win over a Turnstile mention (rendered pages keep the script tag).
        (
            page(
                '<div id="tlTab" data-count="1">',
                ROW,
                "</div>",
                "challenges.cloudflare.com/turnstile",
            ),
            "tracklist",
        ),
        (page("<p>nothing here</p>"), "unknown"),
    ],
)
def test_markers(body: str, kind: str) -> None:
    assert classify(body) == kind


@pytest.mark.parametrize("kind", ["challenge", "captcha", "ip_blocked"])
def test_blocked_kinds_raise_with_url(kind: str) -> None:
    marker = {
        "challenge": "you will be forwarded to the requested page",
        "captcha": '<input name="cSalt">',
        "ip_blocked": '<form action="/info/unblock_ip.html"></form>',
    }[kind]
    with pytest.raises(BlockedPage) as blocked:
        parse_page(page(marker))
    assert blocked.value.page_type == kind
    assert blocked.value.url == "https://www.1001tracklists.com/tracklist/ab12cd/x.html"


def test_tracklist_url_without_rows_is_a_tracklist_parse_error() -> None:
    with pytest.raises(ParseError) as error:
        parse_page(page("<h1>Some title</h1>"))
    assert error.value.page_type == "tracklist"
    assert "no #tlTab" in str(error.value)


def test_rows_promised_but_unreadable_is_an_error_not_an_empty_tracklist() -> None:
    with pytest.raises(ParseError, match="no readable track row"):
        parse_page(page('<h1>T</h1><div id="tlTab" data-count="12"></div>'))


def test_tracklist_with_no_rows_declared_is_empty() -> None:
    result = parse_page(page('<h1>New set</h1><div id="tlTab" data-count="0"></div>'))
    assert isinstance(result, TracklistPage)
    assert result.entries == ()
    assert result.tracklist_id == "ab12cd"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.1001tracklists.com/search/result.php", "search"),
        ("https://www.1001tracklists.com/dj/adam-beyer/index.html", "dj_index"),
        ("https://www.1001tracklists.com/artist/adam-beyer/tracklists.html", "dj_index"),
        ("https://www.1001tracklists.com/", "latest"),
    ],
)
def test_listing_kind_from_url_when_page_has_no_canonical(url: str, kind: str) -> None:
    body = (
        "<html><body><div class='bItm oItm'><div class='bTitle'>"
        "<a href='/tracklist/q1/x.html'>X</a></div></div></body></html>"
    )
    assert classify(body, url) == kind

"""classify()'s shortcuts for tracklists (on bytes, then on text) agree with the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pages import classify
from crawler.pages.classify import classify_document
from crawler.pages.dom import decode, parse_html


def test_shortcut_and_tree_agree_on_every_real_page(real_pages: Path) -> None:
    for path in sorted(real_pages.glob("*.html")):
        text = decode(path.read_bytes())
        assert classify(path.read_bytes()) == classify_document(parse_html(text), text, None), (
            path.name
        )


@pytest.mark.parametrize(
    "body",
    [
        # Row markup inside a script string only: no tlTab container, so no shortcut.
        "<html><body><script>var t = '<div class=\"tlpItem\">';</script>"
        '<form id="captchaForm"></form>Please wait, you will be forwarded</body></html>',
        # A container without rows is not enough for the shortcut (the tree decides).
        '<html><body><div id="tlTab"></div>Please wait, you will be forwarded</body></html>',
    ],
)
def test_partial_markup_takes_the_tree_path(body: str) -> None:
    expected = classify_document(parse_html(body), body, None)
    assert classify(body) == classify(body.encode()) == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_tracklist_is_one_in_any_encoding(real_pages: Path, encoding: str) -> None:
    # UTF-16 hides the ASCII markers from the bytes shortcut: the decoding path answers.
    path = sorted(real_pages.glob("tracklist_*.html"))[0]
    text = decode(path.read_bytes())
    assert classify(text.encode(encoding, errors="replace")) == "tracklist"

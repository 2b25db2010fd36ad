"""classify()'s text shortcut for tracklists agrees with the full tree classification."""

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
    assert classify(body) == classify_document(parse_html(body), body, None)

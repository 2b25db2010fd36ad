"""Every saved real page parses to exactly its ``expected/*.json`` (all fields but ``notes``).

``notes`` is the human commentary of the golden files, not a parsed fact, so it is the one
key left out of the comparison. The list of pages is read from the folder, so a page added
there is tested without touching this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.pages import BlockedPage, classify, parse_page, to_document

REAL_PAGES = Path(__file__).resolve().parents[3].parent / "shared" / "real-pages"
EXPECTED = sorted(path.stem for path in (REAL_PAGES / "expected").glob("*.json"))
ANTI_BOT = ("challenge", "captcha", "ip_blocked")
NOT_BLOCKED = [
    name
    for name in EXPECTED
    if json.loads((REAL_PAGES / "expected" / f"{name}.json").read_text())["page_type"]
    not in ANTI_BOT
]


def _source(real_pages: Path, name: str) -> Path:
    matches = [path for path in real_pages.iterdir() if path.is_file() and path.stem == name]
    assert len(matches) == 1, f"expected one page named {name}.*, found {matches}"
    return matches[0]


def _expected(real_pages: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((real_pages / "expected" / f"{name}.json").read_text())
    document.pop("notes", None)
    return document


@pytest.mark.parametrize("name", EXPECTED)
def test_page_matches_expected_document(real_pages: Path, name: str) -> None:
    expected = _expected(real_pages, name)
    body = _source(real_pages, name).read_bytes()
    if expected["page_type"] in ANTI_BOT:
        with pytest.raises(BlockedPage) as blocked:
            parse_page(body)
        assert {"page_type": blocked.value.page_type} == expected
    else:
        assert to_document(parse_page(body)) == expected


@pytest.mark.parametrize("name", EXPECTED)
def test_classify_agrees_with_expected(real_pages: Path, name: str) -> None:
    body = _source(real_pages, name).read_bytes()
    assert classify(body) == _expected(real_pages, name)["page_type"]


@pytest.mark.parametrize("name", NOT_BLOCKED)
def test_page_parses_from_text_as_well_as_bytes(real_pages: Path, name: str) -> None:
    expected = _expected(real_pages, name)
    text = _source(real_pages, name).read_text(encoding="utf-8")
    assert to_document(parse_page(text)) == expected


def test_every_real_page_has_an_expected_file_or_is_json(real_pages: Path) -> None:
    pages = {path.stem for path in real_pages.glob("*.html")}
    assert pages <= set(EXPECTED)

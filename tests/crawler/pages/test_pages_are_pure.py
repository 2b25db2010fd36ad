"""``crawler.pages`` is pure: HTML in, typed values out, no other part of the service."""

from __future__ import annotations

from pathlib import Path

from support.imports import imported_modules

PACKAGE = Path(__file__).resolve().parents[3] / "crawler" / "pages"
FORBIDDEN = ("crawler", "pipelines", "store", "cue", "api", "cli", "scrapy", "requests", "socket")


def test_pages_import_nothing_from_the_rest_of_the_service() -> None:
    offending = {
        f"{file}: {name}"
        for file, name in imported_modules(PACKAGE)
        if name.split(".")[0] in FORBIDDEN and not name.startswith("crawler.pages")
    }
    assert not offending

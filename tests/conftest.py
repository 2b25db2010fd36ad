"""Shared test fixtures: where the real pages live, and markers for real services."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_PAGES = ROOT.parent / "shared" / "real-pages"


@pytest.fixture(scope="session")
def real_pages() -> Path:
    """The folder of real 1001tracklists pages, read in place (never copied into the repo)."""
    if not REAL_PAGES.is_dir():
        pytest.skip(f"real pages not available: {REAL_PAGES} is absent")
    return REAL_PAGES

"""``cue`` is a pure library: it imports nothing from the crawler, pipelines, store, API or CLI."""

from __future__ import annotations

from pathlib import Path

from support.imports import imported_modules

PACKAGE = Path(__file__).resolve().parents[2] / "cue"
FORBIDDEN = (
    "crawler",
    "pipelines",
    "store",
    "api",
    "cli",
    "scrapy",
    "flask",
    "sqlalchemy",
    "redis",
    "pika",
)


def test_cue_imports_nothing_from_the_rest_of_the_service() -> None:
    offending = {
        f"{file}: {name}"
        for file, name in imported_modules(PACKAGE)
        if name.split(".")[0] in FORBIDDEN
    }
    assert not offending


def test_the_check_would_see_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from store.models import Tracklist\n")
    assert ("bad.py", "store.models") in imported_modules(tmp_path)

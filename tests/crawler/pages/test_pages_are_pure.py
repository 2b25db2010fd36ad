"""``crawler.pages`` is pure: HTML in, typed values out, no other part of the service."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "crawler" / "pages"
FORBIDDEN = ("crawler", "pipelines", "store", "cue", "api", "cli", "scrapy", "requests", "socket")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pages_import_nothing_from_the_rest_of_the_service() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in PACKAGE.glob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN and not name.startswith("crawler.pages")
    }
    assert not offending

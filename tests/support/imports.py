"""What a package imports, read from its source (for the purity tests of pure packages)."""

from __future__ import annotations

import ast
from pathlib import Path


def imported_modules(package: Path) -> set[tuple[str, str]]:
    """(file name, imported module) for every import statement in the package's files."""
    found: set[tuple[str, str]] = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path.name, node.module))
    return found

"""docs/schema.md describes every table and column, so data teams can trust it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store.models import Base

DOC = (Path(__file__).resolve().parents[2] / "docs" / "schema.md").read_text()
SECTIONS = {
    table: section
    for section in DOC.split("\n### ")[1:]
    for table in re.findall(r"`(\w+)`", section.splitlines()[0])
}


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_every_column_is_documented(table: str) -> None:
    assert table in SECTIONS, f"docs/schema.md has no section for {table}"
    documented = set(re.findall(r"\b\w+\b", SECTIONS[table]))
    missing = {column.name for column in Base.metadata.tables[table].columns} - documented
    assert not missing, f"{table}: undocumented columns {sorted(missing)}"

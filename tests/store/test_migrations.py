"""Migrations: up and down on empty databases of both backends, idempotent, matching the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from store import migrate
from store.db import make_engine
from store.models import Base

EXPECTED_TABLES = set(Base.metadata.tables)


def test_upgrade_downgrade_upgrade(any_database_url: str) -> None:
    engine = make_engine(any_database_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # idempotent
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_migrations_match_the_models(any_database_url: str) -> None:
    engine = make_engine(any_database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": lambda _o, name, kind, _r, _c: migrate.in_models(name, kind),
                },
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_postgres_gets_trigram_search_indexes(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        migrate.upgrade(engine)
        names = {index["name"] for index in inspect(engine).get_indexes("tracklists")}
        assert "ix_tracklists_title_trgm" in names
    finally:
        engine.dispose()


def _cli(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKLIST_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "cli", "db", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_upgrade_is_idempotent(any_database_url: str, tmp_path: Path) -> None:
    first = _cli(any_database_url, "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = _cli(any_database_url, "upgrade", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    current = _cli(any_database_url, "current", cwd=tmp_path)
    assert "up to date" in current.stdout


@pytest.mark.programs
def test_cli_default_is_an_embedded_sqlite_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    env["TRACKLIST_DATA_DIR"] = str(tmp_path / "data")
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "cli", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "tracklists.db").stat().st_size > 0


@pytest.mark.programs
def test_cli_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = _cli("postgresql://postgres@127.0.0.1:1/nothing", "current", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "cannot reach" in result.stderr

"""Data teams' views and read-only role: every view answers, the role reads and cannot write."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from crawler.items import TracklistItem
from crawler.pages import TracklistPage, parse_page
from pipelines.persist import store_tracklist
from store.access import READABLE_TABLES, READABLE_VIEWS, grant_read_only
from store.db import make_engine, make_session_factory, run_transaction
from store.migrate import upgrade


def _store_a_page(engine: Engine, real_pages: Path) -> TracklistPage:
    import hashlib
    from datetime import UTC, datetime

    body = (real_pages / "tracklist_1pmwyfn1_max-styler_edc-las-vegas_2025-05-16.html").read_bytes()
    page = parse_page(body)
    assert isinstance(page, TracklistPage)
    item = TracklistItem(page, page.url or "", hashlib.sha256(body).hexdigest(), datetime.now(UTC))
    run_transaction(make_session_factory(engine), lambda s: store_tracklist(s, item))
    return page


def test_views_answer_on_both_backends(migrated_engine: Engine, real_pages: Path) -> None:
    page = _store_a_page(migrated_engine, real_pages)
    with migrated_engine.connect() as connection:
        overview = connection.execute(
            text("SELECT title, djs, sources FROM tracklist_overview")
        ).one()
        assert overview.title == page.title
        assert overview.djs == ", ".join(dict.fromkeys(dj.name for dj in page.djs))
        assert overview.sources == ", ".join(dict.fromkeys(s.name for s in page.sources))
        rows = connection.execute(
            text("SELECT row, cue_seconds, track_key FROM entry_details ORDER BY row")
        ).all()
        assert [r.row for r in rows] == [e.row for e in page.entries]
        assert [r.cue_seconds for r in rows] == [e.cue_seconds for e in page.entries]
        assert all(
            (r.track_key is None) == e.is_id for r, e in zip(rows, page.entries, strict=True)
        )
        for view in READABLE_VIEWS:
            connection.execute(text(f"SELECT * FROM {view} LIMIT 1")).all()


def test_read_only_role_reads_everything_documented_and_writes_nothing(
    postgres_url: str, postgres_admin: Engine, real_pages: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    _store_a_page(engine, real_pages)
    role = f"tl_reader_{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(2):  # idempotent
            with engine.begin() as connection:
                grant_read_only(connection, role)
        reader = create_engine(make_url(postgres_url).set(username=role))
        try:
            with reader.connect() as connection:
                for relation in READABLE_TABLES + READABLE_VIEWS:
                    connection.execute(text(f"SELECT count(*) FROM {relation}")).scalar()
            for forbidden in (
                "SELECT * FROM users",
                "SELECT * FROM api_keys",
                "INSERT INTO djs (slug, name) VALUES ('x', 'x')",
                "UPDATE tracklists SET title = 'x'",
                "DELETE FROM tracklist_entries",
            ):
                with reader.connect() as connection, pytest.raises(DBAPIError):
                    connection.execute(text(forbidden))
        finally:
            reader.dispose()
    finally:
        engine.dispose()
        with postgres_admin.connect() as connection:
            database = make_url(postgres_url).database
            connection.execute(text(f'REVOKE ALL ON DATABASE "{database}" FROM "{role}"'))
        cleanup = make_engine(postgres_url)
        with cleanup.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
        cleanup.dispose()
        with postgres_admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_role_names_are_checked_and_sqlite_is_refused(sqlite_url: str, postgres_url: str) -> None:
    sqlite = make_engine(sqlite_url)
    with sqlite.begin() as connection, pytest.raises(ValueError, match="PostgreSQL"):
        grant_read_only(connection, "reader")
    sqlite.dispose()
    engine = make_engine(postgres_url)
    with engine.begin() as connection, pytest.raises(ValueError, match="plain role name"):
        grant_read_only(connection, 'x"; DROP TABLE tracklists; --')
    engine.dispose()

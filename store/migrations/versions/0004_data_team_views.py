"""Views for data teams: tracklists with DJs and sources, entries with catalogue tracks, crawls.

Documented in docs/schema.md under "Views". String aggregation and time arithmetic differ
between PostgreSQL and SQLite, so those two views have one body per dialect.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# names in heading order, per dialect
_NAMES = {
    "postgresql": """(SELECT string_agg(x.name, ', ' ORDER BY l.position)
                      FROM {link} l JOIN {table} x ON x.id = l.{key}
                      WHERE l.tracklist_id = t.id)""",
    "sqlite": """(SELECT group_concat(name, ', ') FROM
                     (SELECT x.name FROM {link} l JOIN {table} x ON x.id = l.{key}
                      WHERE l.tracklist_id = t.id ORDER BY l.position))""",
}
_SECONDS = {
    "postgresql": "EXTRACT(EPOCH FROM (c.finished_at - c.started_at))",
    "sqlite": "(julianday(c.finished_at) - julianday(c.started_at)) * 86400.0",
}


def _views(dialect: str) -> dict[str, str]:
    names = _NAMES["postgresql" if dialect == "postgresql" else "sqlite"]
    seconds = _SECONDS["postgresql" if dialect == "postgresql" else "sqlite"]
    djs = names.format(link="tracklist_djs", table="djs", key="dj_id")
    sources = names.format(link="tracklist_sources", table="sources", key="source_id")
    return {
        # Built only from the constants above: nothing outside this file reaches the SQL.
        "tracklist_overview": f"""
            SELECT t.id AS tracklist_id, t.site_id, t.url, t.title, t.set_date, t.genres,
                   t.track_count, t.status, t.version, t.scraped_at,
                   {djs} AS djs, {sources} AS sources
            FROM tracklists t
        """,
        "entry_details": """
            SELECT e.tracklist_id, t.title AS tracklist_title, t.set_date, e.row, e.position,
                   e.cue_ms, e.cue_ms / 1000 AS cue_seconds, e.played_with_previous, e.is_id,
                   e.artist, e.title, e.version, e.label, e.track_id, k.track_key
            FROM tracklist_entries e
            JOIN tracklists t ON t.id = e.tracklist_id
            LEFT JOIN tracks k ON k.id = e.track_id
        """,
        "crawl_history": f"""
            SELECT c.correlation_id, c.url, c.status, c.attempts, c.error, c.requested_by,
                   c.created_at, c.started_at, c.finished_at,
                   {seconds} AS duration_seconds,
                   c.tracklist_id, t.title AS tracklist_title
            FROM crawl_requests c
            LEFT JOIN tracklists t ON t.id = c.tracklist_id
        """,
    }


def upgrade() -> None:
    for name, body in _views(op.get_bind().dialect.name).items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in _views(op.get_bind().dialect.name):
        op.execute(f"DROP VIEW IF EXISTS {name}")

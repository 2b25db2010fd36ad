"""MQ consumers' processed-message ids, and the who-played-what views for data teams.

``processed_messages`` remembers which message each consumer applied (at-least-once delivery,
applied once). The views (plain ``CREATE VIEW``, the same SQL on PostgreSQL and SQLite) are
documented in docs/schema.md under "Views":

- ``track_plays``: one row per play of a catalogue track (an entry with a ``track_id``);
- ``dj_track_plays``: the same, once per DJ credited on the set (b2b sets count for each);
- ``track_play_stats``: per catalogue track, play count, set count, first and last play.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "track_plays": """
        SELECT e.id AS entry_id, e.track_id, e.tracklist_id, t.set_date,
               t.title AS tracklist_title, t.url AS tracklist_url,
               e.row, e.position, e.cue_ms
        FROM tracklist_entries e
        JOIN tracklists t ON t.id = e.tracklist_id
        WHERE e.track_id IS NOT NULL
    """,
    "dj_track_plays": """
        SELECT d.id AS dj_id, d.slug AS dj_slug, d.name AS dj_name,
               e.track_id, e.tracklist_id, t.set_date, e.id AS entry_id, e.position, e.cue_ms
        FROM tracklist_djs td
        JOIN djs d ON d.id = td.dj_id
        JOIN tracklist_entries e ON e.tracklist_id = td.tracklist_id
        JOIN tracklists t ON t.id = e.tracklist_id
        WHERE e.track_id IS NOT NULL
    """,
    "track_play_stats": """
        SELECT k.id AS track_id, k.artist, k.title, k.version,
               count(e.id) AS play_count,
               count(DISTINCT e.tracklist_id) AS set_count,
               min(t.set_date) AS first_played,
               max(t.set_date) AS last_played
        FROM tracks k
        JOIN tracklist_entries e ON e.track_id = k.id
        JOIN tracklists t ON t.id = e.tracklist_id
        GROUP BY k.id, k.artist, k.title, k.version
    """,
}


def upgrade() -> None:
    op.create_table(
        "processed_messages",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_processed_messages")),
    )
    op.create_index(
        "ix_processed_messages_processed_at", "processed_messages", ["processed_at"], unique=False
    )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index("ix_processed_messages_processed_at", table_name="processed_messages")
    op.drop_table("processed_messages")

"""Covering indexes for who-played-what (see store/models/plays.py and bench/plays.py).

``(track_id, tracklist_id)`` answers a track's play and set counts from the index alone;
``(tracklist_id, track_id)`` a set's catalogue tracks (a DJ's most-played and shared tracks).
On PostgreSQL they are built CONCURRENTLY, so a live database keeps taking writes meanwhile.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tracklist_entries_track_id_tracklist_id": ["track_id", "tracklist_id"],
    "ix_tracklist_entries_tracklist_id_track_id": ["tracklist_id", "track_id"],
}


def upgrade() -> None:
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            op.create_index(
                name,
                "tracklist_entries",
                columns,
                unique=False,
                if_not_exists=True,
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.drop_index(
                name, table_name="tracklist_entries", if_exists=True, postgresql_concurrently=True
            )

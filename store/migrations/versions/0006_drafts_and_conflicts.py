"""Drafts, published and unpublished versions, and re-crawl conflicts (human edits).

``tracklist_versions`` gets ``published`` (false for a crawl held back by a conflict with a
human edit; every existing version was published) and ``base_version`` (what an edit started
from or a rollback restored). ``tracklist_drafts`` holds editors' working copies;
``tracklist_conflicts`` the re-crawls that disagree with a published edit, at most one open
per tracklist (a partial unique index).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_OPEN = sa.text("status = 'open'")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _tracklist_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tracklist_id"],
        ["tracklists.id"],
        name=op.f(f"fk_{table}_tracklist_id_tracklists"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("tracklist_versions") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("base_version", sa.Integer(), nullable=True))

    op.create_table(
        "tracklist_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("content", _JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        *_timestamps(),
        _tracklist_fk("tracklist_drafts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracklist_drafts")),
    )
    op.create_index("ix_tracklist_drafts_tracklist_id", "tracklist_drafts", ["tracklist_id"])

    op.create_table(
        "tracklist_conflicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("edit_version", sa.Integer(), nullable=False),
        sa.Column("crawl_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution_version", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _tracklist_fk("tracklist_conflicts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracklist_conflicts")),
    )
    op.create_index("ix_tracklist_conflicts_tracklist_id", "tracklist_conflicts", ["tracklist_id"])
    op.create_index(
        "ix_tracklist_conflicts_open",
        "tracklist_conflicts",
        ["tracklist_id"],
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_tracklist_conflicts_open", table_name="tracklist_conflicts")
    op.drop_index("ix_tracklist_conflicts_tracklist_id", table_name="tracklist_conflicts")
    op.drop_table("tracklist_conflicts")
    op.drop_index("ix_tracklist_drafts_tracklist_id", table_name="tracklist_drafts")
    op.drop_table("tracklist_drafts")
    with op.batch_alter_table("tracklist_versions") as batch:
        batch.drop_column("base_version")
        batch.drop_column("published")

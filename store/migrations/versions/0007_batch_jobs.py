"""Batch jobs: many crawl requests or CUE files asked for at once (``POST /batch/…``).

``batch_jobs`` holds one row per job (``crawl`` or ``cue``, its owner, the zip of a CUE
batch); ``batch_items`` one row per input with its outcome and what it points to (the crawl
request, the tracklist, the generated CUE file). Progress is counted from the items and their
crawl requests when read, so nothing here is updated as the workers finish.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", _BIG_ID, nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("force_refresh", sa.Boolean(), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_batch_jobs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    op.create_index(
        "ix_batch_jobs_user_id_created_at", "batch_jobs", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "batch_items",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.Uuid(), nullable=True),
        sa.Column("tracklist_id", sa.Uuid(), nullable=True),
        sa.Column("cue_file_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch_jobs.id"],
            name=op.f("fk_batch_items_batch_id_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["correlation_id"],
            ["crawl_requests.correlation_id"],
            name=op.f("fk_batch_items_correlation_id_crawl_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cue_file_id"],
            ["cue_files.id"],
            name=op.f("fk_batch_items_cue_file_id_cue_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_batch_items_tracklist_id_tracklists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "position", name=op.f("uq_batch_items_batch_id_position")),
    )
    for column in ("correlation_id", "tracklist_id", "cue_file_id"):
        op.create_index(f"ix_batch_items_{column}", "batch_items", [column], unique=False)


def downgrade() -> None:
    op.drop_table("batch_items")
    op.drop_table("batch_jobs")

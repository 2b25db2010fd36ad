"""Tracklist aliases: the site ids a tracklist was requested under before the site moved it.

A tracklist whose id changed on the site answers its old address with a redirect to the new
one; the crawl stores it under the id its page declares and keeps the old id here, so a later
request for the old address finds the same tracklist (``service.intake.stored_by_url``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracklist_aliases",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_tracklist_aliases_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_tracklist_aliases")),
    )
    op.create_index(
        "ix_tracklist_aliases_tracklist_id", "tracklist_aliases", ["tracklist_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tracklist_aliases_tracklist_id", table_name="tracklist_aliases")
    op.drop_table("tracklist_aliases")

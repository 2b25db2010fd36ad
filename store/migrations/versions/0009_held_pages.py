"""Held pages: a re-crawl kept back because the page looks cut short, for an editor to judge.

``tracklist_conflicts`` gets ``kind`` (``edit``: a human edit held a changed crawl back, as
before; ``short_page``: the page parsed markedly fewer rows than it declares, or would drop
most rows of the version it replaces) and ``reason`` (what was seen). A held first crawl
leaves a ``tracklists`` row with ``status = 'held'`` and ``version = 0`` (nothing published).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracklist_conflicts") as table:
        table.add_column(
            sa.Column("kind", sa.String(length=16), server_default="edit", nullable=False)
        )
        table.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM tracklist_conflicts WHERE kind <> 'edit'")
    with op.batch_alter_table("tracklist_conflicts") as table:
        table.drop_column("reason")
        table.drop_column("kind")

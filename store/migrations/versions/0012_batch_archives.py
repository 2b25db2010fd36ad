"""Batch archives in the database: the zip of a CUE batch job, served by any API replica.

Before, ``GET /batch/{id}/download`` read the zip only from the storage folder of the replica
that made it (``batch_jobs.storage_path``), so another replica answered 404. The zip's bytes
are now kept in ``batch_jobs.archive`` (NULL for crawl batches and for jobs made before this
revision, whose zip is served from the local copy where it still exists).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("batch_jobs", sa.Column("archive", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_jobs") as table:
        table.drop_column("archive")

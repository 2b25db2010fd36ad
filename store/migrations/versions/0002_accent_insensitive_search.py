"""Accent-insensitive fuzzy search: ``tracklists_fold()`` and trigram indexes on folded names.

On PostgreSQL, enables ``unaccent`` and defines ``tracklists_fold(text)`` =
``lower(unaccent(text))`` as IMMUTABLE (``unaccent()`` itself is only STABLE, so it cannot be
indexed directly), then indexes the folded DJ and source names with trigram GIN indexes
(names ending in ``_trgm``, like 0001's). "tiesto" then finds "Tiësto" through an index.
Track names need nothing new: ``tracks.*_normalized`` are already folded by the parsers.

SQLite gets nothing here: the API registers a Python ``tracklists_fold`` on its connections
(see ``service/search/candidates.py``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLDED_TRIGRAM_INDEXES = {
    "ix_djs_name_folded_trgm": ("djs", "name"),
    "ix_sources_name_folded_trgm": ("sources", "name"),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # Qualify the extension's schema and dictionary so the function does not depend on the
    # caller's search_path (an index expression must always compute the same value).
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar_one()
    quoted = '"' + schema.replace('"', '""') + '"'
    op.execute(
        "CREATE OR REPLACE FUNCTION tracklists_fold(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        f"$$ SELECT lower({quoted}.unaccent('{quoted}.unaccent'::regdictionary, $1)) $$"
    )
    for name, (table, column) in FOLDED_TRIGRAM_INDEXES.items():
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (tracklists_fold({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FOLDED_TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS tracklists_fold(text)")

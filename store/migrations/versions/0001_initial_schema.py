"""Initial schema: catalogue, tracklists, entries, versions, CUE files, crawl queue, outbox.

Also users and API keys.

On PostgreSQL also enables pg_trgm and adds trigram indexes for fuzzy search (names ending
in ``_trgm``); SQLite searches with LIKE instead (see docs/schema.md).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 08:52:26.653095
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Fuzzy search ("carl coxx" -> "Carl Cox"): trigram GIN indexes, PostgreSQL only.
TRIGRAM_INDEXES = {
    "ix_tracklists_title_trgm": ("tracklists", "title"),
    "ix_djs_name_trgm": ("djs", "name"),
    "ix_sources_name_trgm": ("sources", "name"),
    "ix_tracks_artist_normalized_trgm": ("tracks", "artist_normalized"),
    "ix_tracks_title_normalized_trgm": ("tracks", "title_normalized"),
}


def upgrade() -> None:

    op.create_table(
        "djs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_djs")),
        sa.UniqueConstraint("slug", name=op.f("uq_djs_slug")),
    )
    op.create_index("ix_djs_name_lower", "djs", [sa.literal_column("lower(name)")], unique=False)
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    op.create_index(
        "ix_outbox_events_unsent",
        "outbox_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("site_id", name=op.f("uq_sources_site_id")),
    )
    op.create_index(
        "ix_sources_name_lower", "sources", [sa.literal_column("lower(name)")], unique=False
    )
    op.create_index("ix_sources_slug", "sources", ["slug"], unique=False)
    op.create_table(
        "tracklists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("set_date", sa.Date(), nullable=True),
        sa.Column(
            "genres",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("track_count", sa.Integer(), nullable=False),
        sa.Column("source_html_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "scraped_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracklists")),
        sa.UniqueConstraint("site_id", name=op.f("uq_tracklists_site_id")),
        sa.UniqueConstraint("url", name=op.f("uq_tracklists_url")),
    )
    op.create_index("ix_tracklists_scraped_at", "tracklists", ["scraped_at"], unique=False)
    op.create_index("ix_tracklists_set_date", "tracklists", ["set_date"], unique=False)
    op.create_index(
        "ix_tracklists_title_lower", "tracklists", [sa.literal_column("lower(title)")], unique=False
    )
    op.create_table(
        "tracks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("track_key", sa.Text(), nullable=False),
        sa.Column("artist", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("artist_normalized", sa.Text(), nullable=False),
        sa.Column("title_normalized", sa.Text(), nullable=False),
        sa.Column("version_normalized", sa.Text(), nullable=True),
        sa.Column("label_normalized", sa.Text(), nullable=True),
        sa.Column("site_track_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
        sa.UniqueConstraint("track_key", name=op.f("uq_tracks_track_key")),
    )
    op.create_index("ix_tracks_artist_normalized", "tracks", ["artist_normalized"], unique=False)
    op.create_index("ix_tracks_site_track_id", "tracks", ["site_track_id"], unique=False)
    op.create_index("ix_tracks_title_normalized", "tracks", ["title_normalized"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"], unique=False)
    op.create_table(
        "crawl_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("force_refresh", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tracklist_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_crawl_requests_tracklist_id_tracklists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_requests")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_crawl_requests_correlation_id")),
    )
    op.create_index(
        "ix_crawl_requests_status_created_at",
        "crawl_requests",
        ["status", "created_at"],
        unique=False,
    )
    op.create_index("ix_crawl_requests_url", "crawl_requests", ["url"], unique=False)
    op.create_table(
        "cue_files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("tracklist_version", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=80), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=True),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_cue_files_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cue_files")),
    )
    op.create_index("ix_cue_files_tracklist_id", "cue_files", ["tracklist_id"], unique=False)
    op.create_table(
        "tracklist_djs",
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("dj_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dj_id"], ["djs.id"], name=op.f("fk_tracklist_djs_dj_id_djs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_tracklist_djs_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tracklist_id", "dj_id", name=op.f("pk_tracklist_djs")),
    )
    op.create_index("ix_tracklist_djs_dj_id", "tracklist_djs", ["dj_id"], unique=False)
    op.create_table(
        "tracklist_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("cue_ms", sa.Integer(), nullable=True),
        sa.Column("played_with_previous", sa.Boolean(), nullable=False),
        sa.Column("is_id", sa.Boolean(), nullable=False),
        sa.Column("artist", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "mashup_parts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("track_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_tracklist_entries_track_id_tracks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_tracklist_entries_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracklist_entries")),
        sa.UniqueConstraint(
            "tracklist_id", "row", name=op.f("uq_tracklist_entries_tracklist_id_row")
        ),
    )
    op.create_index(
        "ix_tracklist_entries_track_id", "tracklist_entries", ["track_id"], unique=False
    )
    op.create_table(
        "tracklist_sources",
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_tracklist_sources_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_tracklist_sources_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tracklist_id", "source_id", name=op.f("pk_tracklist_sources")),
    )
    op.create_index(
        "ix_tracklist_sources_source_id", "tracklist_sources", ["source_id"], unique=False
    )
    op.create_table(
        "tracklist_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tracklist_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tracklist_id"],
            ["tracklists.id"],
            name=op.f("fk_tracklist_versions_tracklist_id_tracklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracklist_versions")),
        sa.UniqueConstraint(
            "tracklist_id", "version", name=op.f("uq_tracklist_versions_tracklist_id_version")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in TRIGRAM_INDEXES.items():
            op.create_index(
                name,
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )


def downgrade() -> None:

    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _column) in TRIGRAM_INDEXES.items():
            op.drop_index(name, table_name=table)
    op.drop_table("tracklist_versions")
    op.drop_index("ix_tracklist_sources_source_id", table_name="tracklist_sources")
    op.drop_table("tracklist_sources")
    op.drop_index("ix_tracklist_entries_track_id", table_name="tracklist_entries")
    op.drop_table("tracklist_entries")
    op.drop_index("ix_tracklist_djs_dj_id", table_name="tracklist_djs")
    op.drop_table("tracklist_djs")
    op.drop_index("ix_cue_files_tracklist_id", table_name="cue_files")
    op.drop_table("cue_files")
    op.drop_index("ix_crawl_requests_url", table_name="crawl_requests")
    op.drop_index("ix_crawl_requests_status_created_at", table_name="crawl_requests")
    op.drop_table("crawl_requests")
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_index("ix_tracks_title_normalized", table_name="tracks")
    op.drop_index("ix_tracks_site_track_id", table_name="tracks")
    op.drop_index("ix_tracks_artist_normalized", table_name="tracks")
    op.drop_table("tracks")
    op.drop_index("ix_tracklists_title_lower", table_name="tracklists")
    op.drop_index("ix_tracklists_set_date", table_name="tracklists")
    op.drop_index("ix_tracklists_scraped_at", table_name="tracklists")
    op.drop_table("tracklists")
    op.drop_index("ix_sources_slug", table_name="sources")
    op.drop_index("ix_sources_name_lower", table_name="sources")
    op.drop_table("sources")
    op.drop_index(
        "ix_outbox_events_unsent",
        table_name="outbox_events",
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )
    op.drop_table("outbox_events")
    op.drop_index("ix_djs_name_lower", table_name="djs")
    op.drop_table("djs")

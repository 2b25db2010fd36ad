"""What data teams may read, and a PostgreSQL role that can read exactly that.

Data teams query the database directly. They get SELECT on the catalogue, tracklist and crawl
tables and on the documented views; never on ``users`` / ``api_keys`` (credential hashes),
the outbox or the consumers' bookkeeping. The role's sessions are read-only by default too,
so a mistaken write fails even where a grant is added later by hand.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

READABLE_TABLES = (
    "djs",
    "sources",
    "tracks",
    "tracklists",
    "tracklist_djs",
    "tracklist_sources",
    "tracklist_entries",
    "tracklist_versions",
    "tracklist_drafts",
    "tracklist_conflicts",
    "cue_files",
    "crawl_requests",
)
READABLE_VIEWS = (
    "tracklist_overview",
    "entry_details",
    "crawl_history",
    "track_plays",
    "dj_track_plays",
    "track_play_stats",
)
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_read_only(connection: Connection, role: str, password: str | None = None) -> None:
    """Create ``role`` if needed (LOGIN) and grant it read access; safe to run again.

    PostgreSQL only. ``role`` must be a plain lower-case identifier (it is interpolated into
    DDL, which takes no bind parameters).
    """
    if connection.dialect.name != "postgresql":
        raise ValueError(
            "read-only roles need PostgreSQL (protect a SQLite file with file permissions)"
        )
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"not a plain role name: {role!r} (lower-case letters, digits, _)")
    exists = connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role})
    if not exists:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    if password is not None:
        # ALTER ROLE takes no bind parameters; quote the literal the way PostgreSQL does.
        literal = "'" + password.replace("'", "''") + "'"
        connection.execute(text(f'ALTER ROLE "{role}" PASSWORD {literal}'))
    database = connection.scalar(text("SELECT current_database()"))
    connection.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
    connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    relations = ", ".join(READABLE_TABLES + READABLE_VIEWS)
    connection.execute(text(f'GRANT SELECT ON {relations} TO "{role}"'))
    connection.execute(text(f'ALTER ROLE "{role}" SET default_transaction_read_only = on'))

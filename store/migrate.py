"""Alembic, driven from code: ``tracklists db upgrade`` and the tests share these functions."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = "store:migrations"
# PostgreSQL-only search structures live in migrations, not in the models (SQLite has no
# pg_trgm): trigram indexes (names ending in _trgm), the track word index and vocabulary.
POSTGRES_ONLY_INDEX_SUFFIX = "_trgm"
POSTGRES_ONLY_INDEXES = frozenset({"ix_tracks_words", "ix_track_words_word"})
POSTGRES_ONLY_TABLES = frozenset({"track_words"})


def in_models(name: str | None, type_: str) -> bool:
    """Whether autogenerate should compare this object with the models (Alembic's
    ``include_object`` rule): everything but the PostgreSQL-only search structures."""
    if name is None:
        return True
    if type_ == "index":
        return not (name.endswith(POSTGRES_ONLY_INDEX_SUFFIX) or name in POSTGRES_ONLY_INDEXES)
    return not (type_ == "table" and name in POSTGRES_ONLY_TABLES)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # Passing the engine itself avoids rendering the URL (and its password) into an ini value.
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; a no-op when already there."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()

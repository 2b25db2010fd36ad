"""Tracklists, their DJ and source links, entries, versions and generated CUE files."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, BigId, Timestamped, utcnow
from store.models.catalogue import Dj, Source, Track

TRACKLIST_STATUSES = ("active", "blocked", "gone", "held")
# Edits and rollbacks are "human" versions: a re-crawl never replaces them silently.
VERSION_ORIGINS = ("crawl", "edit", "rollback")
HUMAN_ORIGINS = ("edit", "rollback")


class Tracklist(Timestamped, Base):
    """One DJ set's tracklist, keyed on the page's canonical URL and the site's id.

    ``source_html_hash`` is the SHA-256 of the page it was parsed from: an unchanged page
    is a no-op on re-crawl. ``version`` is the number of the current published version.
    """

    __tablename__ = "tracklists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    site_id: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text)
    set_date: Mapped[date | None] = mapped_column()
    genres: Mapped[list[Any]] = mapped_column(default=list)
    track_count: Mapped[int] = mapped_column(Integer, default=0)
    source_html_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    scraped_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    djs: Mapped[list[Dj]] = relationship(
        secondary="tracklist_djs", order_by="TracklistDj.position", viewonly=True
    )
    sources: Mapped[list[Source]] = relationship(
        secondary="tracklist_sources", order_by="TracklistSource.position", viewonly=True
    )
    entries: Mapped[list[TracklistEntry]] = relationship(
        back_populates="tracklist", order_by="TracklistEntry.row", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        """False for a held first crawl (``version`` 0): nothing of it is served yet."""
        return self.version > 0

    __table_args__ = (
        Index("ix_tracklists_set_date", set_date),
        Index("ix_tracklists_scraped_at", scraped_at),
        Index("ix_tracklists_title_lower", func.lower(title)),
    )


class TracklistAlias(Timestamped, Base):
    """A site id a tracklist was asked for under before the site moved it (its id changed).

    Written when a crawl of ``/tracklist/<site_id>/…`` landed (through the site's redirects)
    on a page declaring another id; a later request for the old address finds the tracklist.
    """

    __tablename__ = "tracklist_aliases"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_tracklist_aliases_tracklist_id", tracklist_id),)


class TracklistDj(Base):
    """A DJ credited on a tracklist; ``position`` keeps b2b order."""

    __tablename__ = "tracklist_djs"

    tracklist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracklists.id", ondelete="CASCADE"), primary_key=True
    )
    dj_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("djs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_tracklist_djs_dj_id", dj_id),)


class TracklistSource(Base):
    """A source (event, venue, show) linked from a tracklist's heading."""

    __tablename__ = "tracklist_sources"

    tracklist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracklists.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_tracklist_sources_source_id", source_id),)


class TracklistEntry(Base):
    """One top-level row of a tracklist, as the page shows it.

    ``row`` is 1-based over top-level rows; ``position`` is the shown number (NULL on "w/"
    rows); ``cue_ms`` is NULL where the page shows no time (the site's 0 is not a cue).
    """

    __tablename__ = "tracklist_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    cue_ms: Mapped[int | None] = mapped_column(Integer)
    played_with_previous: Mapped[bool] = mapped_column(Boolean, default=False)
    is_id: Mapped[bool] = mapped_column(Boolean, default=False)
    artist: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    mashup_parts: Mapped[list[Any]] = mapped_column(default=list)
    track_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tracks.id", ondelete="SET NULL")
    )

    tracklist: Mapped[Tracklist] = relationship(back_populates="entries")
    track: Mapped[Track | None] = relationship()

    __table_args__ = (
        UniqueConstraint(tracklist_id, row),
        Index("ix_tracklist_entries_track_id", track_id),
    )


class TracklistVersion(Base):
    """An immutable snapshot of a tracklist: crawled, edited by a person, or a rollback.

    ``content`` is the full document (metadata and entries) so any version can be shown,
    diffed or restored; ``content_hash`` detects a re-crawl that changed nothing.
    ``published`` is false only for a crawl held back by a conflict with a human edit (it
    becomes true if an editor accepts it); ``base_version`` is the version an edit started
    from or a rollback restored.
    """

    __tablename__ = "tracklist_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16), default="crawl")
    published: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    base_version: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    __table_args__ = (UniqueConstraint(tracklist_id, version),)


class CueFile(Base):
    """A generated CUE sheet (or chapter file), stored in the database and on disk."""

    __tablename__ = "cue_files"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))
    tracklist_version: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    file_size: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(80))
    storage_path: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    __table_args__ = (Index("ix_cue_files_tracklist_id", tracklist_id),)

"""DJs, sources (events, venues, radio shows) and the track catalogue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, BigId, Timestamped


class Dj(Timestamped, Base):
    """A DJ or artist credited with sets; ``slug`` is the site's (``/dj/<slug>/``)."""

    __tablename__ = "djs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_djs_name_lower", func.lower(name)),)


class Source(Timestamped, Base):
    """An event, venue, festival, radio show or label night a set belongs to.

    ``site_id`` is the site's source id (``/source/<site_id>/<slug>/``); ``kind`` its type
    label where known ("Open Air / Festival", "Club", "Radio Channel", ...).
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_sources_slug", slug),
        Index("ix_sources_name_lower", func.lower(name)),
    )


class Track(Base):
    """One catalogue track, however differently sets wrote it.

    ``track_key`` is the normalized identity (artist, title, version) computed by the
    parsers' identity rules; the display fields keep the first spelling seen.
    """

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    track_key: Mapped[str] = mapped_column(Text, unique=True)
    artist: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    artist_normalized: Mapped[str] = mapped_column(Text)
    title_normalized: Mapped[str] = mapped_column(Text)
    version_normalized: Mapped[str | None] = mapped_column(Text)
    label_normalized: Mapped[str | None] = mapped_column(Text)
    site_track_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_tracks_artist_normalized", artist_normalized),
        Index("ix_tracks_title_normalized", title_normalized),
        Index("ix_tracks_site_track_id", site_track_id),
    )

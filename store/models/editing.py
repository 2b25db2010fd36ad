"""Human editing of tracklists: drafts, and conflicts between a published edit and a re-crawl.

A draft is an editor's working copy of a tracklist's document; publishing it adds a version
(see :class:`store.models.TracklistVersion`). A conflict is opened when a page changes on the
site while the published version is a human edit: the crawl is kept as an unpublished version
until an editor decides.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, Timestamped

DRAFT_STATUSES = ("open", "published", "discarded")
CONFLICT_STATUSES = ("open", "kept", "accepted", "merged", "superseded")


class TracklistDraft(Timestamped, Base):
    """An editor's working copy of a tracklist, started from ``base_version``.

    Publishing it is refused once ``base_version`` is no longer the tracklist's current
    version (someone else published meanwhile): history is never overwritten blindly.
    """

    __tablename__ = "tracklist_drafts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))
    base_version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="open")
    published_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_tracklist_drafts_tracklist_id", tracklist_id),)


class TracklistConflict(Timestamped, Base):
    """A re-crawl held back for an editor: it disagrees with a human edit, or looks short.

    ``kind`` is ``edit`` (the current version is a human edit) or ``short_page`` (the page
    parsed markedly fewer rows than it declares, or would drop most rows of the version it
    replaces; ``reason`` says which). ``edit_version`` is the version published when the
    crawl was held (0: none yet, a held first crawl). At most one conflict per tracklist is
    open; a later held crawl moves its ``crawl_version`` forward instead of opening another,
    and a later complete crawl of a short page supersedes it.
    """

    __tablename__ = "tracklist_conflicts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tracklist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tracklists.id", ondelete="CASCADE"))
    edit_version: Mapped[int] = mapped_column(Integer)
    crawl_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    kind: Mapped[str] = mapped_column(String(16), default="edit", server_default="edit")
    reason: Mapped[str | None] = mapped_column(Text)
    resolution_version: Mapped[int | None] = mapped_column(Integer)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_tracklist_conflicts_tracklist_id", tracklist_id),
        Index(
            "ix_tracklist_conflicts_open",
            tracklist_id,
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

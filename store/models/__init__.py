"""The service's tables as typed SQLAlchemy 2 models (see docs/schema.md)."""

from store.models.accounts import ROLES, ApiKey, RevokedToken, User
from store.models.base import Base, utcnow
from store.models.batches import BATCH_ITEM_STATUSES, BATCH_KINDS, BatchItem, BatchJob
from store.models.catalogue import Dj, Source, Track
from store.models.editing import (
    CONFLICT_STATUSES,
    DRAFT_STATUSES,
    TracklistConflict,
    TracklistDraft,
)
from store.models.messaging import ProcessedMessage
from store.models.operations import CRAWL_STATUSES, CrawlRequest, OutboxEvent
from store.models.plays import SET_TRACKS_INDEX, TRACK_SETS_INDEX
from store.models.tracklists import (
    HUMAN_ORIGINS,
    TRACKLIST_STATUSES,
    VERSION_ORIGINS,
    CueFile,
    Tracklist,
    TracklistAlias,
    TracklistDj,
    TracklistEntry,
    TracklistSource,
    TracklistVersion,
)

__all__ = [
    "BATCH_ITEM_STATUSES",
    "BATCH_KINDS",
    "CONFLICT_STATUSES",
    "CRAWL_STATUSES",
    "DRAFT_STATUSES",
    "HUMAN_ORIGINS",
    "ROLES",
    "SET_TRACKS_INDEX",
    "TRACKLIST_STATUSES",
    "TRACK_SETS_INDEX",
    "VERSION_ORIGINS",
    "ApiKey",
    "Base",
    "BatchItem",
    "BatchJob",
    "CrawlRequest",
    "CueFile",
    "Dj",
    "OutboxEvent",
    "ProcessedMessage",
    "RevokedToken",
    "Source",
    "Track",
    "Tracklist",
    "TracklistAlias",
    "TracklistConflict",
    "TracklistDj",
    "TracklistDraft",
    "TracklistEntry",
    "TracklistSource",
    "TracklistVersion",
    "User",
    "utcnow",
]

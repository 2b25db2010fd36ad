"""The service's tables as typed SQLAlchemy 2 models (see docs/schema.md)."""

from store.models.accounts import ROLES, ApiKey, User
from store.models.base import Base, utcnow
from store.models.catalogue import Dj, Source, Track
from store.models.messaging import ProcessedMessage
from store.models.operations import CRAWL_STATUSES, CrawlRequest, OutboxEvent
from store.models.plays import SET_TRACKS_INDEX, TRACK_SETS_INDEX
from store.models.tracklists import (
    TRACKLIST_STATUSES,
    CueFile,
    Tracklist,
    TracklistDj,
    TracklistEntry,
    TracklistSource,
    TracklistVersion,
)

__all__ = [
    "CRAWL_STATUSES",
    "ROLES",
    "SET_TRACKS_INDEX",
    "TRACKLIST_STATUSES",
    "TRACK_SETS_INDEX",
    "ApiKey",
    "Base",
    "CrawlRequest",
    "CueFile",
    "Dj",
    "OutboxEvent",
    "ProcessedMessage",
    "Source",
    "Track",
    "Tracklist",
    "TracklistDj",
    "TracklistEntry",
    "TracklistSource",
    "TracklistVersion",
    "User",
    "utcnow",
]

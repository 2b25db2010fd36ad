"""What spiders hand to the pipelines: a parsed page plus the facts of its fetch, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from crawler.pages import TracklistPage


@dataclass(slots=True)
class TracklistItem:
    """A tracklist page as fetched: ``page`` from the parsers, the rest from the response.

    ``html_sha256`` is the hash of the body as received; ``download_ms`` is the fetch's
    latency, so the pipelines can report the whole processing time of the page.
    ``requested_url`` is the address the spider asked for, before any redirect (None when
    unknown): a tracklist that moved is stored under the id its page declares, and the old
    address is kept as an alias.
    """

    page: TracklistPage
    fetched_url: str
    html_sha256: str
    fetched_at: datetime
    download_ms: float = 0.0
    correlation_id: str | None = None
    requested_url: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TracklistRefused:
    """The site did not give a tracklist page: it is ``gone`` (404, 410) or ``blocked``.

    Nothing of the answer is stored; a tracklist already stored under the URL's site id is
    marked with ``status`` (its data is kept and still served) and the change is announced.
    """

    url: str
    status: Literal["gone", "blocked"]
    reason: str

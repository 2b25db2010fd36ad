"""Typed values the page parsers produce.

All values are frozen dataclasses of plain Python types, so they are hashable, picklable
and cheap to hand between threads, spiders and pipelines. :func:`crawler.pages.to_document`
turns any of them into the JSON document of ``shared/real-pages/expected``; the dataclasses
themselves carry more than that document (cue in milliseconds, track and DJ links, media,
the page's own row counts and the warnings raised while reading it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ListingKind = Literal["search", "dj_index", "latest"]


@dataclass(frozen=True, slots=True)
class NamedLink:
    """A linked name, e.g. a DJ (``/dj/<slug>/index.html``) or a source (``/source/...``)."""

    name: str
    url: str | None


@dataclass(frozen=True, slots=True)
class MashupPart:
    """One component of a mashup row (a ``tlpSubTog`` sub-row, not a row of its own)."""

    display: str
    artist: str
    title: str
    version: str | None
    label: str | None
    track_id: str | None
    track_url: str | None


@dataclass(frozen=True, slots=True)
class TrackEntry:
    """One top-level row of a tracklist.

    ``cue_ms`` is the visible cue time; ``None`` when the row shows none (the site's hidden
    0 is not a cue). ``script_cue_ms`` is what the page's inline cue script says for the
    row, kept for comparison: it groups "w/" rows under the previous cue and says 0 for
    uncued rows, so it never overrides the visible time.
    """

    row: int
    position: int | None
    played_with_previous: bool
    cue_ms: int | None
    display: str
    artist: str
    title: str
    version: str | None
    label: str | None
    is_id: bool
    mashup_parts: tuple[MashupPart, ...] = ()
    track_id: str | None = None
    track_url: str | None = None
    position_id: int | None = None
    script_cue_ms: int | None = None
    media_item_id: int | None = None
    media_sources: tuple[str, ...] = ()

    @property
    def cue_seconds(self) -> int | None:
        """The cue in whole seconds, as the page shows it."""
        return None if self.cue_ms is None else self.cue_ms // 1000


@dataclass(frozen=True, slots=True)
class MediaLink:
    """A recording of the set (``div.mediaLink``) or one entry of the media-link JSON."""

    media_id: int | None
    source_id: str
    source_name: str
    url: str | None
    player_id: str | None


@dataclass(frozen=True, slots=True)
class TracklistPage:
    """A parsed ``/tracklist/<id>/<slug>.html`` page (raw HTTP or browser-rendered)."""

    tracklist_id: str
    url: str | None
    title: str
    djs: tuple[NamedLink, ...]
    sources: tuple[NamedLink, ...]
    date: str | None
    genres: tuple[str, ...]
    entries: tuple[TrackEntry, ...]
    page_id: str | None = None
    media: tuple[MediaLink, ...] = ()
    declared_row_count: int | None = None
    declared_track_count: int | None = None
    parsed_row_count: int = 0
    warnings: tuple[str, ...] = ()
    page_type: Literal["tracklist"] = "tracklist"


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One tracklist row of a search, DJ index or latest-tracklists page."""

    title: str
    url: str
    tracklist_id: str | None
    date: str | None
    creator: str | None = None
    views: str | None = None
    ided: str | None = None
    play_time: str | None = None
    genres: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListingPage:
    """A page (or "load more" JSON) listing tracklists: search, DJ index or latest.

    ``has_next_page`` is ``None`` where the page cannot tell (a DJ index page loads more rows
    by infinite scroll; its JSON answer says whether it was the last batch).
    """

    page_type: ListingKind
    results: tuple[ResultRow, ...]
    has_next_page: bool | None = None
    dj: str | None = None
    total_count: int | None = None
    url: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MediaLinksPage:
    """The JSON of ``/ajax/get_medialink.php`` (a track's players and shop links)."""

    links: tuple[MediaLink, ...]
    id_object: str | None = None
    id_item: str | None = None
    page_type: Literal["media_links"] = "media_links"


ParsedPage = TracklistPage | ListingPage | MediaLinksPage

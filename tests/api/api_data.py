"""Tracklists for the data-endpoint tests, stored through the crawler's real pipeline.

``store_page`` builds a parsed page (as the parsers would) and stores it with
``pipelines.persist.store_tracklist``, so the rows, versions and outbox events are exactly what a
crawl writes. :func:`seed_catalogue` stores one fixed set per test session (site ids carry a
random token because the API tests share one database).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from crawler.items import TracklistItem
from crawler.pages.types import NamedLink, TrackEntry, TracklistPage
from pipelines.persist import store_tracklist
from store.db import run_transaction

SITE = "https://www.1001tracklists.com"


def entry(
    row: int,
    artist: str,
    title: str,
    cue_ms: int | None,
    *,
    version: str | None = None,
    label: str | None = None,
    with_previous: bool = False,
    position: int | None = None,
) -> TrackEntry:
    """One row; ``ID`` as artist or title marks an unknown track."""
    shown = f"{artist} - {title}" + (f" ({version})" if version else "")
    return TrackEntry(
        row=row,
        position=None if with_previous else (position or row),
        played_with_previous=with_previous,
        cue_ms=cue_ms,
        display=shown,
        artist=artist,
        title=title,
        version=version,
        label=label,
        is_id="ID" in (artist, title),
    )


DEFAULT_ENTRIES = (
    entry(1, "Carl Cox", "The Revolution Continues", 0, version="Original Mix", label="Intec"),
    entry(2, "Adam Beyer", "Your Mind", 185_000, label="Drumcode"),
    entry(3, "Bart Skils", "Ulysses", None, with_previous=True),
    entry(4, "ID", "ID", 3_725_000, position=3),
)


def page(
    site_id: str,
    djs: list[tuple[str, str]],
    event: tuple[str, str] | None,
    set_date: str | None,
    entries: tuple[TrackEntry, ...] = DEFAULT_ENTRIES,
    title: str | None = None,
) -> TracklistPage:
    """A parsed tracklist page: ``djs`` and ``event`` as (name, slug)."""
    dj_links = tuple(NamedLink(name, f"{SITE}/dj/{slug}/index.html") for name, slug in djs)
    sources = ()
    if event is not None:
        name, slug = event
        sources = (NamedLink(name, f"{SITE}/source/{site_id}s/{slug}/index.html"),)
    heading = " & ".join(name for name, _ in djs) + (f" @ {event[0]}" if event else "")
    return TracklistPage(
        tracklist_id=site_id,
        url=f"{SITE}/tracklist/{site_id}/{site_id}-set.html",
        title=title or f"{heading} {set_date or ''}".strip(),
        djs=dj_links,
        sources=sources,
        date=set_date,
        genres=("Techno",),
        entries=entries,
    )


def store_page(sessions: sessionmaker[Session], parsed: TracklistPage) -> uuid.UUID:
    """Store ``parsed`` as a crawl would; returns the tracklist id."""
    item = TracklistItem(
        page=parsed,
        fetched_url=parsed.url or SITE,
        html_sha256=hashlib.sha256(repr(parsed).encode()).hexdigest(),
        fetched_at=datetime.now(UTC),
    )
    return run_transaction(sessions, lambda session: store_tracklist(session, item)).tracklist_id


@dataclass(frozen=True)
class Catalogue:
    """The session's stored tracklists by name, and the token in their slugs."""

    token: str
    ids: dict[str, uuid.UUID]
    pages: dict[str, TracklistPage]

    def url(self, name: str) -> str:
        """The public URL of one stored tracklist."""
        url = self.pages[name].url
        assert url is not None
        return url


PAGINATED_SETS = 25


def seed_catalogue(sessions: sessionmaker[Session]) -> Catalogue:
    """Tiësto, Carl Cox, Sven Väth sets, and 25 sets of one DJ for paging."""
    token = uuid.uuid4().hex[:8]
    tiesto = ("Tiësto", f"tiesto{token}")
    cox = ("Carl Cox", f"carlcox{token}")
    specs = {
        "tiesto-tomorrowland": ([tiesto], ("Tomorrowland", "tomorrowland"), "2024-07-20"),
        "tiesto-ultra": ([tiesto], ("Ultra Music Festival Miami", "ultra"), "2023-03-25"),
        "cox-timewarp": ([cox], ("Time Warp", "time-warp"), "2024-04-06"),
        "cox-space": ([cox], ("Space Ibiza", "space-ibiza"), "2016-09-01"),
        "cox-beyer-awakenings": (
            [cox, ("Adam Beyer", f"adambeyer{token}")],
            ("Awakenings Festival", "awakenings"),
            "2019-06-29",
        ),
        "vath-timewarp": ([("Sven Väth", f"svenvath{token}")], ("Time Warp", "time-warp"), None),
    }
    pages: dict[str, TracklistPage] = {}
    for number, (name, (djs, event, when)) in enumerate(specs.items()):
        slug_event = (event[0], f"{event[1]}{token}")
        pages[name] = page(f"{token}{number}", djs, slug_event, when)
    first = date(2020, 1, 1)
    for n in range(PAGINATED_SETS):
        pages[f"pager-{n}"] = page(
            f"{token}p{n}",
            [(f"Pager Person {token}", f"pager{token}")],
            None,
            (first + timedelta(days=n)).isoformat(),
        )
    ids = {name: store_page(sessions, parsed) for name, parsed in pages.items()}
    return Catalogue(token, ids, pages)


def changed(parsed: TracklistPage, title: str) -> TracklistPage:
    """The same page with another title (a re-crawl that finds the page changed)."""
    return replace(parsed, title=title)

"""The offline demo's site: a few fictional sets in 1001tracklists' markup, built at run time.

``tracklists up --demo`` serves these from the local replay site, so a newcomer without
internet access sees the whole path (crawl, store, search, CUE) on pages of our own. The
markup follows the real pages' structure (see ``shared/spec/site-guide.md``): a latest-tracklists
home page whose rows link each set, and tracklist pages with cue times, a "w/" row and an ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from crawler.localsite.pages import Page, PageStore

SITE = "https://www.1001tracklists.com"


@dataclass(frozen=True)
class DemoTrack:
    """One row: ``cue`` as shown ("M:SS" or "H:MM:SS", "" for none); ``with_previous`` = "w/"."""

    artist: str
    title: str
    version: str | None = None
    label: str | None = None
    cue: str = ""
    with_previous: bool = False


@dataclass(frozen=True)
class DemoSet:
    """One tracklist page of the demo."""

    site_id: str
    slug: str
    dj: tuple[str, str]  # (name, slug)
    source: tuple[str, str, str]  # (name, site id, slug)
    date: str
    genres: tuple[str, ...]
    tracks: tuple[DemoTrack, ...]

    @property
    def path(self) -> str:
        return f"/tracklist/{self.site_id}/{self.slug}.html"

    @property
    def title(self) -> str:
        return f"{self.dj[0]} @ {self.source[0]} {self.date}"


DEMO_SETS: tuple[DemoSet, ...] = (
    DemoSet(
        "demo0001",
        "nova-lund-harbour-lights-festival-2025-06-21",
        ("Nova Lund", "novalund"),
        ("Harbour Lights Festival", "hl2025", "harbour-lights-festival"),
        "2025-06-21",
        ("Techno", "Melodic Techno"),
        (
            DemoTrack("Nova Lund", "Tidewater", None, "Lantern Records", "0:00"),
            DemoTrack(
                "Orrin Vale ft. Mira Sol", "Glass Coast", "Nova Lund Remix", "Harbourline", "4:12"
            ),
            DemoTrack("Kestrel & Bay", "Low Frequency Letters", None, "Lantern Records", "9:47"),
            DemoTrack("ID", "ID", None, None, "15:30"),
            DemoTrack("Mira Sol", "Signal Fires", "Acappella", None, "", True),
            DemoTrack("Ansel Crane", "Northern Relay", "Extended Mix", "Polar Works", "21:05"),
            DemoTrack("Nova Lund", "Harbour Lights", None, "Lantern Records", "1:02:10"),
        ),
    ),
    DemoSet(
        "demo0002",
        "kestrel-bay-b2b-orrin-vale-the-boiler-room-2025-03-08",
        ("Kestrel & Bay", "kestrelandbay"),
        ("The Boiler Hall", "bh0042", "the-boiler-hall"),
        "2025-03-08",
        ("House", "Deep House"),
        (
            DemoTrack("Kestrel & Bay", "Warm Static", None, "Southbound", "0:00"),
            DemoTrack("Tomas Reyna", "Velvet Hours", "Kestrel & Bay Edit", "Southbound", "5:40"),
            DemoTrack("Orrin Vale", "Copper Sun", None, "Harbourline", "11:02"),
            DemoTrack("Léa Fontaine", "Café Minuit", "Dub", "Rive Gauche", "16:45"),
            DemoTrack("ID", "ID", None, None, ""),
            DemoTrack("Kestrel & Bay", "Last Train Home", None, "Southbound", "28:19"),
        ),
    ),
    DemoSet(
        "demo0003",
        "mira-sol-radio-aurora-episode-101-2025-09-02",
        ("Mira Sol", "mirasol"),
        ("Radio Aurora", "ra0101", "radio-aurora"),
        "2025-09-02",
        ("Progressive House",),
        (
            DemoTrack("Mira Sol", "Aurora Theme", None, "Aurora Audio", "0:00"),
            DemoTrack("Ansel Crane", "Meridian", None, "Polar Works", "3:58"),
            DemoTrack("Nova Lund", "Tidewater", "Mira Sol Rework", "Lantern Records", "8:20"),
            DemoTrack("Léa Fontaine", "Nuit Blanche", None, "Rive Gauche", "13:44"),
        ),
    ),
)


def _row(number: int, track: DemoTrack, position: int | None) -> str:
    pos_id = 9000 + number
    shown = (
        '<span title="played together with previous track">w/</span>'
        if position is None
        else f"{position:02d}"
    )
    version = (
        f'<span> (<span class="blueTxt">{escape(track.version)}</span>)</span>'
        if track.version
        else ""
    )
    label = ""
    if track.label:
        label = (
            '<span class="iBlock"><span title="label" class="trackLabel">'
            f"{escape(track.label)}</span></span>"
        )
    classes = "tlpTog bItm tlpItem" + (" con" if track.with_previous else "")
    return (
        f'<div id="tlp_{pos_id}" class="{classes} trRow{number}" data-trno="{number - 1}" '
        f'data-id="{pos_id}">'
        f'<div class="bPlay"><input id="tlp{pos_id}_cue_seconds" type="hidden" value="0">'
        f'<span id="tlp{number - 1}_tracknumber_value">{shown}</span>'
        f'<div id="cue_{pos_id}" class="cue">{escape(track.cue)}</div></div>'
        f'<div id="tlp{number - 1}_content"><span class="trackValue">'
        f"<span>{escape(track.artist)}</span><span> - </span><span>{escape(track.title)}</span>"
        f"{version}</span>{label}</div></div>"
    )


def tracklist_page(demo: DemoSet) -> bytes:
    """The HTML of one demo tracklist page."""
    rows = []
    position = 0
    for number, track in enumerate(demo.tracks, start=1):
        if not track.with_previous:
            position += 1
        rows.append(_row(number, track, None if track.with_previous else position))
    genres = "".join(f'<meta itemprop="genre" content="{escape(g)}">' for g in demo.genres)
    (dj_name, dj_slug), (source_name, source_id, source_slug) = demo.dj, demo.source
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
        f"<title>{escape(demo.title)}</title>"
        f'<link rel="canonical" href="{SITE}{demo.path}"></head><body>'
        f'<div id="pageTitle"><h1><a href="/dj/{dj_slug}/index.html">{escape(dj_name)}</a> @ '
        f'<a href="/source/{source_id}/{source_slug}/index.html">{escape(source_name)}</a> '
        f"{demo.date}</h1></div>"
        f'<div id="tlTab" data-id="{demo.site_id}" data-count="{len(demo.tracks)}">'
        f'<meta itemprop="datePublished" content="{demo.date}">'
        f'<meta itemprop="numTracks" content="{len(demo.tracks)}">{genres}'
        + "".join(rows)
        + "</div></body></html>"
    ).encode()


def home_page(sets: tuple[DemoSet, ...] = DEMO_SETS) -> bytes:
    """The latest-tracklists home page listing the demo sets."""
    rows = "".join(
        f"<div class=\"bItm action oItm\" onclick=\"window.open('{s.path}', '_self');\" "
        f'data-id="{s.site_id}"><div class="bCont"><div class="bTitle">'
        f'<a href="{s.path}">{escape(s.title)}</a></div>'
        f'<div class="mediaRow"><span title="tracklist date">{s.date}</span></div></div></div>'
        for s in sets
    )
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
        "<title>1001Tracklists - latest tracklists</title>"
        f'<link rel="canonical" href="{SITE}/"></head><body>'
        f'<div id="middleDiv">{rows}</div></body></html>'
    ).encode()


def demo_store() -> PageStore:
    """Every page of the demo site, ready for :class:`crawler.localsite.LocalSite`."""
    store = PageStore()
    store.add("GET", "/", Page(body=home_page(), source="demo home page"))
    for demo in DEMO_SETS:
        store.add("GET", demo.path, Page(body=tracklist_page(demo), source=f"demo {demo.site_id}"))
    return store

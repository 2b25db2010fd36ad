"""``scrapy crawl dj -a dj=<slug>``: every tracklist of one DJ, following "load more".

The index page shows ~15 rows; the rest come from the site's infinite-scroll endpoint
(``POST /ajax/get_data.php``), which answers JSON with more rows and an ``end`` flag.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import FormRequest, Request, Response

from crawler.pages import ListingPage, PageError, parse_page
from crawler.spiders.base import SiteSpider

LOAD_MORE_PATH = "/ajax/get_data.php"
LOAD_MORE_COUNT = 15
# The DJ's internal id the "load more" endpoint wants, as the index page's script sets it.
_SCROLL_ID = re.compile(rb"""idScrollObject\s*=\s*["']([\w-]+)["']|data-artist=["']([\w-]+)["']""")


class DjSpider(SiteSpider):
    """Walks one DJ's tracklist index to the end and fetches every tracklist."""

    name = "dj"

    def __init__(self, dj: str = "", max_pages: str = "100", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not re.fullmatch(r"[\w-]+", dj):
            raise ValueError("give -a dj=<slug> (as in /artist/<slug>/tracklists.html)")
        self.dj = dj
        self.max_pages = int(max_pages)

    async def start(self) -> AsyncIterator[Request]:
        yield Request(
            # The 2026 address of a DJ's index (older /dj/<slug>/index.html links redirect).
            self.site_url(f"/artist/{self.dj}/tracklists.html"),
            callback=self.parse,
            errback=self.on_error,
            dont_filter=True,
        )

    def parse(self, response: Response) -> Iterator[Request]:
        page = self._listing(response)
        if page is None:
            return
        match = _SCROLL_ID.search(response.body)
        internal_id = (match.group(1) or match.group(2)).decode() if match else None
        yield from self._follow(page, internal_id, shown=len(page.results), batch=1)

    def parse_more(self, response: Response) -> Iterator[Request]:
        page = self._listing(response)
        if page is None:
            return
        meta = response.meta
        yield from self._follow(
            page, meta["dj_internal_id"], meta["shown"] + len(page.results), meta["batch"] + 1
        )

    def _listing(self, response: Response) -> ListingPage | None:
        try:
            page = parse_page(response.body, response.url)
        except PageError as exc:
            self.count(f"parse/errors/{exc.page_type}")
            self.logger.error("cannot read DJ index %s: %s", response.url, exc)
            return None
        return page if isinstance(page, ListingPage) else None

    def _follow(
        self, page: ListingPage, internal_id: str | None, shown: int, batch: int
    ) -> Iterator[Request]:
        for row in page.results:
            yield self.tracklist_request(row.url)
        if not page.results or page.has_next_page is False or internal_id is None:
            return
        if batch >= self.max_pages:
            self.logger.warning("stopping %s after %d pages (max_pages)", self.dj, batch)
            return
        last = page.results[-1].tracklist_id or ""
        yield FormRequest(
            self.site_url(LOAD_MORE_PATH),
            formdata={
                "type": "overview",
                "dj": internal_id,
                "pos": str(shown),
                "id": last,
                "count": str(LOAD_MORE_COUNT),
            },
            callback=self.parse_more,
            errback=self.on_error,
            meta={"dj_internal_id": internal_id, "shown": shown, "batch": batch},
        )

"""``scrapy crawl search -a query=TEXT [-a follow=1] [-a max_pages=N]``: the site's search form.

The site answers ``POST /search/result.php`` (30 rows a page; the form's ``page`` field moves
through the pages). Each result is an item ``{"title", "url", "date"}`` (``-O results.json``
saves them); with ``follow=1`` every result's tracklist is fetched and stored too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import FormRequest, Request, Response

from crawler.pages import ListingPage, PageError, parse_page
from crawler.spiders.base import SiteSpider

SEARCH_PATH = "/search/result.php"
SEARCH_TRACKLISTS = "9"  # the form's search_selection for tracklists


class SearchSpider(SiteSpider):
    """Runs one search, pages through it, and optionally fetches the results."""

    name = "search"

    def __init__(
        self, query: str = "", follow: str = "0", max_pages: str = "5", *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not query.strip():
            raise ValueError("give -a query=TEXT")
        self.query = query.strip()
        self.follow = follow.lower() in ("1", "true", "yes")
        self.max_pages = int(max_pages)

    def _page_request(self, page: int) -> FormRequest:
        return FormRequest(
            self.site_url(SEARCH_PATH),
            formdata={
                "main_search": self.query,
                "search_selection": SEARCH_TRACKLISTS,
                "page": str(page),
            },
            callback=self.parse,
            errback=self.on_error,
            meta={"search_page": page},
            dont_filter=True,
        )

    async def start(self) -> AsyncIterator[Request]:
        yield self._page_request(1)

    def parse(self, response: Response) -> Iterator[Request | dict[str, Any]]:
        try:
            page = parse_page(response.body, response.url)
        except PageError as exc:
            self.count(f"parse/errors/{exc.page_type}")
            self.logger.error("cannot read search results %s: %s", response.url, exc)
            return
        if not isinstance(page, ListingPage):
            return
        number = int(response.meta["search_page"])
        self.count("search/pages")
        for row in page.results:
            yield {"title": row.title, "url": row.url, "date": row.date}
            if self.follow:
                yield self.tracklist_request(row.url)
        if page.has_next_page and number < self.max_pages:
            yield self._page_request(number + 1)

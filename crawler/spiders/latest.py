"""``scrapy crawl latest``: the home page's newest tracklists, for scheduled incremental runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from scrapy.http import Request, Response

from crawler.pages import ListingPage, PageError, parse_page
from crawler.spiders.base import SiteSpider


class LatestSpider(SiteSpider):
    """Reads the latest-tracklists home page and fetches every tracklist it lists."""

    name = "latest"

    async def start(self) -> AsyncIterator[Request]:
        yield Request(
            self.site_url("/"), callback=self.parse, errback=self.on_error, dont_filter=True
        )

    def parse(self, response: Response) -> Iterator[Request]:
        try:
            page = parse_page(response.body, response.url)
        except PageError as exc:
            self.count(f"parse/errors/{exc.page_type}")
            self.logger.error("cannot read the home page %s: %s", response.url, exc)
            return
        if not isinstance(page, ListingPage):
            self.count("parse/errors/not_a_listing")
            return
        for row in page.results:
            yield self.tracklist_request(row.url)

"""``scrapy crawl tracklist -a url=URL[,URL...]`` or ``-a urls_file=FILE``: fetch given pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy.http import Request

from crawler.spiders.base import SiteSpider


class TracklistSpider(SiteSpider):
    """Fetches and stores the tracklist pages it is given (one URL per line in a file)."""

    name = "tracklist"

    def __init__(self, url: str = "", urls_file: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        urls = [u for u in url.split(",") if u.strip()]
        if urls_file:
            lines = Path(urls_file).read_text(encoding="utf-8").splitlines()
            urls += [line for line in lines if line.strip() and not line.startswith("#")]
        if not urls:
            raise ValueError("give -a url=URL[,URL...] or -a urls_file=FILE")
        self.urls = urls

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            # A scheduled re-crawl must fetch again: never let a dupefilter skip a page.
            yield self.tracklist_request(url, dont_filter=True)

"""ValidatePipeline: drop tracklist items that must not be stored, with a reason and a count.

Checks are about what the store relies on (an id, rows numbered 1..n, sane cue times), not
about the site's editorial quality. Warnings the parsers raised (e.g. the page says it has
31 rows but 30 were found) are logged and counted, never hidden, and do not drop the item.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import TracklistItem

log = logging.getLogger(__name__)


class InvalidTracklist(DropItem):
    """A tracklist item that cannot be stored; ``reason`` is a short stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def check(item: TracklistItem) -> None:
    """Raise :class:`InvalidTracklist` for the first problem found in ``item``."""
    page = item.page
    where = page.url or item.fetched_url
    if not page.tracklist_id:
        raise InvalidTracklist("no_tracklist_id", where)
    if not page.title.strip():
        raise InvalidTracklist("no_title", where)
    if not page.entries:
        # An anti-bot or decoy page that slipped past detection looks exactly like this.
        raise InvalidTracklist("no_rows", where)
    rows = [entry.row for entry in page.entries]
    if rows != list(range(1, len(rows) + 1)):
        raise InvalidTracklist("bad_row_numbers", f"{where}: rows {rows[:5]}...")
    negative = [
        entry.row for entry in page.entries if entry.cue_ms is not None and entry.cue_ms < 0
    ]
    if negative:
        raise InvalidTracklist("negative_cue", f"{where}: rows {negative}")


class ValidatePipeline:
    """First pipeline: validates :class:`TracklistItem` s, passes anything else through."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, TracklistItem):
            return item
        try:
            check(item)
        except InvalidTracklist as exc:
            self.stats.inc_value(f"validate/dropped/{exc.reason}")
            log.warning("dropped tracklist %s", exc)
            raise
        for warning in (*item.page.warnings, *item.warnings):
            self.stats.inc_value("validate/warnings")
            log.warning("tracklist %s: %s", item.page.url or item.fetched_url, warning)
        return item

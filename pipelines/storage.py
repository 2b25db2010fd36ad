"""StorePipeline: write each tracklist item to the database without blocking the reactor.

The transaction (``pipelines.persist.store_tracklist`` plus the crawl request's outcome)
runs in a worker thread through ``store.db.run_transaction``, which retries the whole unit
when the database drops the connection, so a PostgreSQL restart delays items but loses none.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from sqlalchemy.orm import Session

from crawler.items import TracklistItem, TracklistRefused
from pipelines.persist import StoreResult, store_tracklist
from pipelines.refusals import record_refusal
from store import migrate
from store.crawl_queue import finish_request
from store.db import make_engine, make_session_factory, run_transaction

log = logging.getLogger(__name__)


def store_and_finish(session: Session, item: TracklistItem) -> StoreResult:
    """Store ``item`` and record its crawl request's outcome, in the same transaction.

    ``done``, or ``held`` (with the reason) when the page looked cut short and was kept for
    an editor instead of published.
    """
    result = store_tracklist(session, item)
    if result.short_page:
        finish_request(
            session,
            item.correlation_id,
            "held",
            error=f"held for review: {result.short_page}",
            tracklist_id=result.tracklist_id,
        )
    else:
        finish_request(session, item.correlation_id, "done", tracklist_id=result.tracklist_id)
    return result


class StorePipeline:
    """Upserts :class:`TracklistItem` s and records :class:`TracklistRefused` ones.

    Off (``NotConfigured``) without a database URL.
    """

    def __init__(self, database_url: str, stats: StatsCollector, max_wait_seconds: float) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_session_factory(self.engine)
        self.stats = stats
        self.max_wait_seconds = max_wait_seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("TRACKLIST_DATABASE_URL")
        if not url or not settings.getbool("TRACKLIST_STORE_ENABLED", True):
            raise NotConfigured("TRACKLIST_DATABASE_URL is not set or storing is off")
        assert crawler.stats is not None
        return cls(url, crawler.stats, settings.getfloat("TRACKLIST_STORE_MAX_WAIT", 120.0))

    def open_spider(self) -> None:
        current, head = migrate.current_revision(self.engine), migrate.head_revision(self.engine)
        if current != head:
            # Storing into an old schema would fail item by item; stop before crawling anything.
            raise RuntimeError(
                f"database at revision {current}, code expects {head}: run `tracklists db upgrade`"
            )

    def close_spider(self) -> None:
        self.engine.dispose()

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, TracklistRefused):
            await self._record_refusal(item)
            return item
        if not isinstance(item, TracklistItem):
            return item
        result = await asyncio.to_thread(
            run_transaction,
            self.sessions,
            lambda session: store_and_finish(session, item),
            max_wait_seconds=self.max_wait_seconds,
        )
        self.stats.inc_value(f"store/{result.outcome}")
        log.info(
            "tracklist %s %s (version %d)",
            result.tracklist_id,
            result.outcome,
            result.version,
            extra={"correlation_id": item.correlation_id, "url": item.page.url},
        )
        return item

    async def _record_refusal(self, refused: TracklistRefused) -> None:
        previous = await asyncio.to_thread(
            run_transaction,
            self.sessions,
            lambda session: record_refusal(session, refused),
            max_wait_seconds=self.max_wait_seconds,
        )
        if previous is not None:
            self.stats.inc_value(f"store/marked_{refused.status}")
            log.info("tracklist %s is now %s (was %s)", refused.url, refused.status, previous)

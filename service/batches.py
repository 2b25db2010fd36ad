"""Batch crawl jobs: many tracklist URLs queued at once and followed as one job.

Each input goes through the same intake as ``POST /tracklist`` (:mod:`service.intake`):
the SSRF rules of :mod:`domain.site`, then "stored and fresh: nothing to crawl", "already queued
or running: reuse that request" or a new request through :class:`store.crawl_queue.CrawlQueue`.
A refused input is a failed item with its reason; it never fails the batch. A URL given twice
in one batch is decided once and both items share the outcome.

The job and its items are written after every input was decided, in one transaction; each
crawl request is committed by the queue as it is submitted (so a worker may finish one before
the job row exists: the job's progress is read from the requests, so nothing is missed).
CUE batches are :mod:`service.cue_batches`; progress is read by :mod:`service.batch_progress`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.site import UrlRejected, canonical_public_url
from service import intake
from store.crawl_queue import CrawlQueue
from store.db import session_scope
from store.models import BatchItem, BatchJob

# Inputs are kept as given, up to this many characters (the rest is cut, marked with "…").
MAX_INPUT_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input (a :class:`BatchItem`'s result columns)."""

    status: str
    error: str | None = None
    correlation_id: uuid.UUID | None = None
    tracklist_id: uuid.UUID | None = None
    cue_file_id: uuid.UUID | None = None


def storable(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """``text`` as any database stores it: no NUL, no lone surrogates, at most ``limit`` chars.

    Inputs and error messages repeat what clients sent, and PostgreSQL refuses both NUL and
    invalid UTF-8 in text columns.
    """
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def item_row(batch_id: uuid.UUID, position: int, raw: str, outcome: Outcome) -> BatchItem:
    """The row of one input."""
    return BatchItem(
        batch_id=batch_id,
        position=position,
        input=storable(raw),
        status=outcome.status,
        error=storable(outcome.error) if outcome.error else None,
        correlation_id=outcome.correlation_id,
        tracklist_id=outcome.tracklist_id,
        cue_file_id=outcome.cue_file_id,
    )


def submit_crawl_batch(
    sessions: sessionmaker[Session],
    queue: CrawlQueue,
    inputs: Sequence[str],
    *,
    max_age: timedelta,
    force_refresh: bool = False,
    user_id: int | None = None,
    requested_by: str | None = None,
    on_item: Callable[[], None] | None = None,
) -> uuid.UUID:
    """Queue a crawl for each good URL of ``inputs``; returns the new job's id.

    ``max_age`` is how old a stored tracklist may be and still need no crawl
    (``TRACKLIST_API_TRACKLIST_MAX_AGE_HOURS``); ``force_refresh`` crawls every good URL
    anyway. ``on_item`` is called after each input (a progress bar's step).
    """
    batch_id = uuid.uuid4()
    decided: dict[str, Outcome] = {}
    items: list[BatchItem] = []
    with sessions() as session:  # reads only: the queue commits each request itself
        for position, raw in enumerate(inputs):
            try:
                url = canonical_public_url(raw)
            except UrlRejected as exc:
                outcome = Outcome("failed", error=str(exc))
            else:
                if url not in decided:
                    decided[url] = _decide(
                        session, queue, url, max_age, force_refresh, requested_by
                    )
                outcome = decided[url]
            items.append(item_row(batch_id, position, raw, outcome))
            if on_item is not None:
                on_item()
    with session_scope(sessions) as session:
        session.add(
            BatchJob(
                id=batch_id,
                kind="crawl",
                user_id=user_id,
                requested_by=requested_by,
                force_refresh=force_refresh,
            )
        )
        session.flush()  # the job first: the items refer to it (no ORM relationship orders them)
        session.add_all(items)
    return batch_id


def _decide(
    session: Session,
    queue: CrawlQueue,
    url: str,
    max_age: timedelta,
    force_refresh: bool,
    requested_by: str | None,
) -> Outcome:
    """As ``POST /tracklist`` (:func:`service.intake.decide`), without a correlation id."""
    decision = intake.decide(
        session,
        queue,
        url,
        max_age=max_age,
        force_refresh=force_refresh,
        requested_by=requested_by,
    )
    if decision.tracklist is not None:
        return Outcome("done", tracklist_id=decision.tracklist.id)
    assert decision.request is not None
    return Outcome("submitted", correlation_id=decision.request.correlation_id)

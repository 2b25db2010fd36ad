"""Tracklist retrieval requests: queue a crawl exactly as the API's ``POST /tracklist`` does.

Request body: ``{"url": "https://www.1001tracklists.com/tracklist/...", "force_refresh":
false}``. As the API: the URL must be a tracklist page on the site (same SSRF rules, via
:func:`api.urls.canonical_tracklist_url`); a stored tracklist fresher than
``TRACKLIST_API_TRACKLIST_MAX_AGE_HOURS`` answers ``done`` at once; otherwise an active request
for the URL is reused, or a new one is queued (``store.crawl_queue``).

The crawl request's correlation id is the message's when it is a UUID, else one derived from
the message id, so a redelivered message finds the request it already queued instead of
queueing a second crawl. The reply (``tracklist.retrieval.result`` on ``tracklist.result``)
carries ``status`` (queued, running, done, failed, blocked), ``correlation_id`` (the crawl
request's: poll ``GET /tracklist/status/{id}``) and ``tracklist_id`` once known.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.urls import UrlRejected
from pipelines.consumers import fields
from pipelines.consumers.runner import Effect, Malformed, Message
from pipelines.outbox import add_event
from store.crawl_intake import active_request, canonical_public_url, is_fresh, stored_by_url
from store.crawl_queue import CrawlQueue
from store.models import CrawlRequest

RETRIEVAL_RESULT = "tracklist.retrieval.result"
# Ids of crawl requests derived from message ids (uuid5), so they are stable across deliveries.
_NAMESPACE = uuid.UUID("5b1e4c2e-9d0f-4f5e-8a43-3d1c2b7a9e61")


@dataclass(frozen=True, slots=True)
class Answer:
    """What the reply says."""

    status: str
    correlation_id: str | None
    tracklist_id: str | None


class RetrievalHandler:
    """Queues crawls through :class:`~store.crawl_queue.CrawlQueue` and replies."""

    name = "retrieval"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        crawl_queue: CrawlQueue,
        result_routing_key: str,
        *,
        max_age_hours: float,
    ) -> None:
        self.sessions = sessions
        self.crawl_queue = crawl_queue
        self.result_routing_key = result_routing_key
        self.max_age = timedelta(hours=max_age_hours)

    def prepare(self, message: Message) -> Effect:
        """Validate the URL and queue the crawl (idempotently); the effect queues the reply."""
        body = message.body
        try:
            url = canonical_public_url(fields.text(body, "url", max_length=4096))
        except UrlRejected as exc:
            raise Malformed(f"url: {exc}") from None
        force_refresh = fields.flag(body, "force_refresh")
        answer = self._answer(url, force_refresh, _request_id(message))

        def effect(session: Session) -> str:
            reply = {
                "request_message_id": message.message_id,
                "url": url,
                "status": answer.status,
                "correlation_id": answer.correlation_id,
                "tracklist_id": answer.tracklist_id,
            }
            add_event(
                session,
                RETRIEVAL_RESULT,
                reply,
                correlation_id=message.correlation_id or answer.correlation_id,
                routing_key=self.result_routing_key,
            )
            return answer.status

        return effect

    def _answer(self, url: str, force_refresh: bool, request_id: uuid.UUID) -> Answer:
        with self.sessions() as session:
            existing = session.scalars(
                select(CrawlRequest).where(CrawlRequest.correlation_id == request_id)
            ).first()
            if existing is not None:  # a redelivery: the crawl this message already queued
                if existing.url != url:
                    raise Malformed(f"correlation id {request_id} belongs to another request")
                return _of(existing)
            stored = stored_by_url(session, url)
            if stored is not None and not force_refresh and is_fresh(stored, self.max_age):
                return Answer("done", None, str(stored.id))
            if not force_refresh:
                active = active_request(session, url)
                if active is not None:
                    return _of(active)  # the workers already have it: don't queue it twice
        try:
            request = self.crawl_queue.submit(
                url,
                correlation_id=str(request_id),
                force_refresh=force_refresh,
                requested_by="mq",
            )
        except IntegrityError:
            # A concurrent delivery of the same message queued it first: answer with that one.
            return self._answer(url, force_refresh, request_id)
        return _of(request)


def _request_id(message: Message) -> uuid.UUID:
    try:
        return uuid.UUID(message.correlation_id or "")
    except ValueError:
        return uuid.uuid5(_NAMESPACE, message.message_id)


def _of(request: CrawlRequest) -> Answer:
    tracklist_id = str(request.tracklist_id) if request.tracklist_id else None
    return Answer(request.status, str(request.correlation_id), tracklist_id)

"""Tracklist retrieval requests: queue a crawl exactly as the API's ``POST /tracklist`` does.

Request body: ``{"url": "https://www.1001tracklists.com/tracklist/...", "force_refresh":
false}``. The URL must be a tracklist page on the site (the SSRF rules of
:func:`domain.site.canonical_public_url`); then :func:`service.intake.decide` answers, as for
the API's ``POST /tracklist``: a stored tracklist fresher than
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

from sqlalchemy.orm import Session, sessionmaker

from domain.site import UrlRejected, canonical_public_url
from messaging.consumers import fields
from messaging.consumers.runner import Effect, Malformed, Message
from service import intake
from store.crawl_queue import CrawlQueue
from store.models import CrawlRequest
from store.outbox import add_event

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
            try:
                decision = intake.decide(
                    session,
                    self.crawl_queue,
                    url,
                    max_age=self.max_age,
                    force_refresh=force_refresh,
                    correlation_id=request_id,
                    requested_by="mq",
                )
            except intake.CorrelationConflict as exc:
                raise Malformed(str(exc)) from None
            if decision.tracklist is not None:
                return Answer("done", None, str(decision.tracklist.id))
            assert decision.request is not None
            return _of(decision.request)


def _request_id(message: Message) -> uuid.UUID:
    try:
        return uuid.UUID(message.correlation_id or "")
    except ValueError:
        return uuid.uuid5(_NAMESPACE, message.message_id)


def _of(request: CrawlRequest) -> Answer:
    tracklist_id = str(request.tracklist_id) if request.tracklist_id else None
    return Answer(request.status, str(request.correlation_id), tracklist_id)

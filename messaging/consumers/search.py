"""``tracklist.search`` requests: answer on ``tracklist.result`` with the request's correlation id.

Request body: ``{"query": "carl cox", "search_type": "any|dj|event|title", "page": 1,
"limit": 20}`` (only ``query`` is required). The reply (event type
``tracklist.search.result``) echoes the query and carries ``results`` (each with
``tracklist_id``, ``url``, ``title``, ``dj_name``, ``event_name``, ``date``, all ``djs`` and
``events``), ``total``, ``page``, ``limit`` and ``pages``. Matching is
:func:`service.search.substring.search_tracklists`'s.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from messaging.consumers import fields
from messaging.consumers.runner import Effect, Malformed, Message
from service.search.substring import SEARCH_TYPES, SearchHit, search_tracklists
from store.outbox import add_event

SEARCH_RESULT = "tracklist.search.result"
MAX_LIMIT = 100
MAX_PAGE = 10_000


class SearchHandler:
    """Runs the search and writes the reply into the outbox."""

    name = "search"

    def __init__(self, result_routing_key: str) -> None:
        self.result_routing_key = result_routing_key

    def prepare(self, message: Message) -> Effect:
        """Validate the request; the effect searches and queues the reply."""
        body = message.body
        query = fields.text(body, "query", max_length=200)
        search_type = body.get("search_type", "any")
        if search_type not in SEARCH_TYPES:
            raise Malformed(f"search_type must be one of {', '.join(SEARCH_TYPES)}")
        page = fields.integer(body, "page", default=1, low=1, high=MAX_PAGE)
        limit = fields.integer(body, "limit", default=20, low=1, high=MAX_LIMIT)

        def effect(session: Session) -> str:
            total, hits = search_tracklists(
                session, query, search_type, limit=limit, offset=(page - 1) * limit
            )
            reply = {
                "request_message_id": message.message_id,
                "query": query,
                "search_type": search_type,
                "results": [_result(hit) for hit in hits],
                "total": total,
                "page": page,
                "limit": limit,
                "pages": math.ceil(total / limit),
            }
            add_event(
                session,
                SEARCH_RESULT,
                reply,
                correlation_id=message.correlation_id or message.message_id[:100],
                routing_key=self.result_routing_key,
            )
            return "answered"

        return effect


def _result(hit: SearchHit) -> dict[str, Any]:
    return {
        "tracklist_id": str(hit.tracklist_id),
        "url": hit.url,
        "title": hit.title,
        "dj_name": hit.djs[0] if hit.djs else None,
        "event_name": hit.events[0] if hit.events else None,
        "date": hit.set_date.isoformat() if hit.set_date else None,
        "djs": list(hit.djs),
        "events": list(hit.events),
    }

"""Factories the editing tests share: a fresh stored set, re-crawls, request bodies."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from api_data import page, store_page
from api_helpers import PREFIX
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.pages.types import TracklistPage
from store.models import OutboxEvent


def fresh_set(sessions: sessionmaker[Session]) -> tuple[uuid.UUID, TracklistPage]:
    """A newly crawled set of its own (the editing tests change what they store)."""
    token = uuid.uuid4().hex[:10]
    parsed = page(f"ed{token}", [("Edit Tester", f"edittester{token}")], None, "2024-05-01")
    return store_page(sessions, parsed), parsed


def recrawl(sessions: sessionmaker[Session], parsed: TracklistPage, **changes: Any) -> None:
    """Store the page again as a crawl would, with ``changes`` (e.g. ``title=...``)."""
    store_page(sessions, replace(parsed, **changes))


def edit_body(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A ``PUT …/drafts/{id}`` body from a document shown by the API, with ``changes``."""
    entries = [
        {
            name: entry[name]
            for name in (
                "position",
                "cue_ms",
                "played_with_previous",
                "artist",
                "title",
                "version",
                "label",
                "mashup_parts",
            )
        }
        for entry in document["entries"]
    ]
    body = {
        "title": document["title"],
        "date": document["date"],
        "genres": document["genres"],
        "entries": entries,
    }
    body.update(changes)
    return body


def url(tracklist_id: uuid.UUID, *rest: object) -> str:
    """``{prefix}/tracklist/{id}/rest…``."""
    return "/".join([f"{PREFIX}/tracklist/{tracklist_id}", *map(str, rest)])


def start_draft(
    client: FlaskClient, tracklist_id: uuid.UUID, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    """Create a draft; returns it (asserting 201)."""
    response = client.post(url(tracklist_id, "drafts"), json=body, headers=headers)
    assert response.status_code == 201, response.json
    draft: dict[str, Any] = response.json
    return draft


def events_of(
    sessions: sessionmaker[Session], tracklist_id: uuid.UUID, event_type: str
) -> list[dict[str, Any]]:
    """Payloads of the outbox events of one type about one tracklist, oldest first."""
    with sessions() as session:
        rows = session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.event_type == event_type)
            .order_by(OutboxEvent.id)
        )
        return [dict(payload) for payload in rows if payload["tracklist_id"] == str(tracklist_id)]

"""What the editing blueprints (drafts, versions, conflicts) share.

The editing logic lives in :mod:`pipelines` (no Flask); here its refusals become problem
documents (404, 409, 422 naming the fields) and a successful change is committed and made
visible at once: the tracklist's and the searches' cache stamps are dropped in this process
(their keys change with the new version and outbox event, see :mod:`api.cache`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_jwt_extended import get_jwt

from api import cache
from api.errors import ApiProblem
from api.extensions import db
from service.editing.diff import public_entry
from service.editing.errors import Conflict, Invalid, NotFound
from service.editing.rules import problems
from store.models import TracklistDraft, TracklistVersion


@contextmanager
def edit_errors() -> Iterator[None]:
    """Turn :mod:`service.editing.errors` into the matching problem responses."""
    try:
        yield
    except NotFound as exc:
        raise ApiProblem(404, str(exc)) from None
    except Conflict as exc:
        raise ApiProblem(409, str(exc), kind="conflict") from None
    except Invalid as exc:
        errors = [
            {"field": found.field, "location": "json", "message": found.message}
            for found in exc.problems
        ]
        raise ApiProblem(
            422, f"the tracklist is invalid: {exc}", kind="validation-error", errors=errors
        ) from None


def editor() -> str:
    """The signed-in user's name (editing views require a token)."""
    claims = get_jwt()
    return str(claims.get("name") or claims.get("sub"))


def commit_change(tracklist_id: uuid.UUID, *, published: bool) -> None:
    """Commit the request's changes; after a publish, serve the new version at once here."""
    db.session.commit()
    if published:
        cache.forget(f"tracklist:{tracklist_id}", "outbox")


def document_view(content: dict[str, Any]) -> dict[str, Any]:
    """A stored document as :class:`api.edit_schemas.DocumentSchema` shows it."""
    return {
        "title": content.get("title"),
        "date": content.get("date"),
        "genres": list(content.get("genres") or ()),
        "djs": list(content.get("djs") or ()),
        "sources": list(content.get("sources") or ()),
        "entries": [public_entry(entry) for entry in content.get("entries") or ()],
    }


def version_view(version: TracklistVersion, current: int, *, full: bool) -> dict[str, Any]:
    """A version (with its document when ``full``)."""
    shown: dict[str, Any] = {
        "version": version.version,
        "origin": version.origin,
        "published": version.published,
        "current": version.version == current,
        "base_version": version.base_version,
        "author": version.author,
        "reason": version.reason,
        "track_count": len(version.content.get("entries") or ()),
        "content_hash": version.content_hash,
        "created_at": version.created_at,
    }
    if full:
        shown["document"] = document_view(version.content)
    return shown


def draft_view(draft: TracklistDraft, *, full: bool) -> dict[str, Any]:
    """A draft (with its document and remaining problems when ``full``)."""
    shown: dict[str, Any] = {
        name: getattr(draft, name)
        for name in (
            "id",
            "tracklist_id",
            "base_version",
            "author",
            "reason",
            "status",
            "published_version",
            "created_at",
            "updated_at",
        )
    }
    if full:
        shown["document"] = document_view(draft.content)
        shown["problems"] = [
            {"field": found.field, "message": found.message} for found in problems(draft.content)
        ]
    return shown

"""``{prefix}/tracklist/{id}/conflicts``: re-crawls held back because a person edited the set.

When the current version is a human edit and the page changed on the site, the crawl is kept
as an unpublished version and a conflict is opened (see :mod:`service.editing.conflicts`). An editor
resolves it: ``keep`` the edit, ``accept`` the crawl (published as a new version), or
``merge``: publish a draft (typically created with ``from_version`` = the crawl and corrected).
Listing needs the reader role, resolving the editor role.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from api.edit_schemas import ConflictListSchema, ConflictSchema, ResolveSchema
from api.editing import commit_change, edit_errors, editor
from api.extensions import db
from api.openapi import Blueprint
from api.security import require_role
from service.editing import conflicts
from store.models import TracklistConflict

bp = Blueprint("conflicts", __name__, description="Re-crawls that disagree with human edits.")


def _view(conflict: TracklistConflict) -> dict[str, Any]:
    shown = {
        name: getattr(conflict, name)
        for name in (
            "id",
            "tracklist_id",
            "status",
            "edit_version",
            "crawl_version",
            "resolution_version",
            "resolved_by",
            "resolved_at",
            "created_at",
        )
    }
    versions: dict[str, Any] = {"from": conflict.edit_version, "to": conflict.crawl_version}
    shown["diff_url"] = url_for(
        "versions.diff_versions", tracklist_id=conflict.tracklist_id, **versions
    )
    return shown


@bp.route("/<uuid:tracklist_id>/conflicts", methods=["GET"])
@require_role("reader")
@bp.response(200, ConflictListSchema)
@bp.alt_response(404, description="No tracklist with this id")
def list_conflicts(tracklist_id: uuid.UUID) -> dict[str, Any]:
    """The tracklist's conflicts, newest first (at most one ``open``)."""
    with edit_errors():
        found = conflicts.conflicts_of(db.session, tracklist_id)
    return {"conflicts": [_view(conflict) for conflict in found]}


@bp.route("/<uuid:tracklist_id>/conflicts/<uuid:conflict_id>/resolve", methods=["POST"])
@require_role("editor")
@bp.arguments(ResolveSchema())
@bp.response(200, ConflictSchema)
@bp.alt_response(404, description="No such conflict (or draft) of this tracklist")
@bp.alt_response(409, description="Already resolved, or the merged draft cannot be published")
def resolve_conflict(
    body: dict[str, Any], tracklist_id: uuid.UUID, conflict_id: uuid.UUID
) -> dict[str, Any]:
    """Keep the edit, accept the crawl, or publish a merged draft."""
    with edit_errors():
        conflict = conflicts.resolve(
            db.session,
            tracklist_id,
            conflict_id,
            body["action"],
            editor=editor(),
            reason=body.get("reason"),
            draft_id=body.get("draft_id"),
        )
    commit_change(tracklist_id, published=body["action"] != "keep")
    return _view(conflict)

"""``{prefix}/tracklist/{id}/conflicts``: re-crawls held back for an editor.

A crawl is kept as an unpublished version with an open conflict (see
:mod:`service.editing.conflicts`) when the current version is a human edit and the page
changed on the site (``kind`` ``edit``), or when the page looked cut short (``short_page``,
with its ``reason``). An editor resolves it: ``keep`` what is published, ``accept`` the
crawl (published as a new version), or ``merge``: publish a draft (typically created with
``from_version`` = the crawl and corrected). Listing needs the reader role, resolving the
editor role.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
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
            "kind",
            "reason",
            "edit_version",
            "crawl_version",
            "resolution_version",
            "resolved_by",
            "resolved_at",
            "created_at",
        )
    }
    versions: dict[str, Any] = {"from": conflict.edit_version, "to": conflict.crawl_version}
    shown["diff_url"] = (
        url_for("versions.diff_versions", tracklist_id=conflict.tracklist_id, **versions)
        if conflict.edit_version
        else None  # a held first crawl: nothing published to compare with
    )
    return shown


class ReviewArgsSchema(ma.Schema):
    """Which open conflicts to list."""

    kind = ma.fields.String(
        validate=ma.validate.OneOf((conflicts.EDIT, conflicts.SHORT_PAGE)),
        metadata={"description": "only this kind (edit | short_page)"},
    )
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(1, 1000))


@bp.route("/conflicts", methods=["GET"])
@require_role("editor")
@bp.arguments(ReviewArgsSchema(), location="query")
@bp.response(200, ConflictListSchema)
def review_list(args: dict[str, Any]) -> dict[str, Any]:
    """Every open conflict, oldest first: held crawls waiting for an editor."""
    found = conflicts.open_conflicts(db.session, args.get("kind"), args["limit"])
    return {"conflicts": [_view(conflict) for conflict in found]}


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

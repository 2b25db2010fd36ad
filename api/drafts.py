"""``{prefix}/tracklist/{id}/drafts``: editors' corrections, validated, then published.

Create a draft (a copy of the current version's document, or of ``from_version``'s), replace
its document with ``PUT`` as often as needed (422 names each row and field that breaks a rule),
and publish it: a new ``edit`` version, served at once. Publishing a draft whose base is no
longer the current version is refused (409): start a new draft from the current one. Drafts
are an editor's working material: every operation needs the editor role.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from api.edit_schemas import (
    DraftEditSchema,
    DraftListArgs,
    DraftListSchema,
    DraftSchema,
    NewDraftSchema,
    ReasonSchema,
    VersionSchema,
)
from api.editing import commit_change, draft_view, edit_errors, editor, version_view
from api.extensions import db
from api.openapi import Blueprint
from api.security import require_role
from service.editing import drafts

bp = Blueprint("drafts", __name__, description="Drafts: editors' corrections of tracklists.")

_ONE = "/<uuid:tracklist_id>/drafts/<uuid:draft_id>"


@bp.route("/<uuid:tracklist_id>/drafts", methods=["GET"])
@require_role("editor")
@bp.arguments(DraftListArgs(), location="query")
@bp.response(200, DraftListSchema)
@bp.alt_response(404, description="No tracklist with this id")
def list_drafts(args: dict[str, Any], tracklist_id: uuid.UUID) -> dict[str, Any]:
    """The tracklist's drafts, newest first (``status`` filters)."""
    with edit_errors():
        found = drafts.drafts_of(db.session, tracklist_id, args.get("status"))
    return {"drafts": [draft_view(draft, full=False) for draft in found]}


@bp.route("/<uuid:tracklist_id>/drafts", methods=["POST"])
@require_role("editor")
@bp.arguments(NewDraftSchema())
@bp.response(201, DraftSchema)
@bp.alt_response(404, description="No tracklist, or no such from_version")
def create_draft(
    body: dict[str, Any], tracklist_id: uuid.UUID
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start a draft on the current version."""
    with edit_errors():
        draft = drafts.create_draft(
            db.session,
            tracklist_id,
            author=editor(),
            reason=body.get("reason"),
            from_version=body.get("from_version"),
        )
    commit_change(tracklist_id, published=False)
    location = url_for(".get_draft", tracklist_id=tracklist_id, draft_id=draft.id)
    return draft_view(draft, full=True), 201, {"Location": location}


@bp.route(_ONE, methods=["GET"])
@require_role("editor")
@bp.response(200, DraftSchema)
@bp.alt_response(404, description="No such draft of this tracklist")
def get_draft(tracklist_id: uuid.UUID, draft_id: uuid.UUID) -> dict[str, Any]:
    """A draft, its document and what still stops it from being published."""
    with edit_errors():
        draft = drafts.draft_of(db.session, tracklist_id, draft_id)
    return draft_view(draft, full=True)


@bp.route(_ONE, methods=["PUT"])
@require_role("editor")
@bp.arguments(DraftEditSchema())
@bp.response(200, DraftSchema)
@bp.alt_response(404, description="No such draft of this tracklist")
@bp.alt_response(409, description="The draft is no longer open")
def edit_draft(
    body: dict[str, Any], tracklist_id: uuid.UUID, draft_id: uuid.UUID
) -> dict[str, Any]:
    """Replace the draft's title, date, genres and rows (422 names what breaks a rule)."""
    with edit_errors():
        draft = drafts.update_draft(
            db.session, tracklist_id, draft_id, body, reason=body.get("reason")
        )
    commit_change(tracklist_id, published=False)
    return draft_view(draft, full=True)


@bp.route(_ONE, methods=["DELETE"])
@require_role("editor")
@bp.response(200, DraftSchema)
@bp.alt_response(404, description="No such draft of this tracklist")
@bp.alt_response(409, description="The draft is no longer open")
def discard_draft(tracklist_id: uuid.UUID, draft_id: uuid.UUID) -> dict[str, Any]:
    """Discard an open draft (it stays listed, as ``discarded``)."""
    with edit_errors():
        draft = drafts.discard_draft(db.session, tracklist_id, draft_id)
    commit_change(tracklist_id, published=False)
    return draft_view(draft, full=True)


@bp.route(f"{_ONE}/publish", methods=["POST"])
@require_role("editor")
@bp.arguments(ReasonSchema())
@bp.response(201, VersionSchema)
@bp.alt_response(404, description="No such draft of this tracklist")
@bp.alt_response(409, description="The draft is stale, not open, or changes nothing")
def publish_draft(
    body: dict[str, Any], tracklist_id: uuid.UUID, draft_id: uuid.UUID
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Publish the draft as the tracklist's new current version (origin ``edit``)."""
    with edit_errors():
        version = drafts.publish_draft(
            db.session, tracklist_id, draft_id, editor=editor(), reason=body.get("reason")
        )
    commit_change(tracklist_id, published=True)
    location = url_for("versions.get_version", tracklist_id=tracklist_id, version=version.version)
    return version_view(version, version.version, full=True), 201, {"Location": location}

"""``{prefix}/tracklist/{id}/versions``, ``/diff`` and ``/rollback``: a tracklist's history.

Every published state is a version (origin ``crawl``, ``edit`` or ``rollback``, with author,
time and reason); crawls held back by a conflict are listed too, unpublished. A rollback
publishes an old version's document again as a new version: history is never rewritten.
Reading needs the reader role, rolling back the editor role.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for

from api.edit_schemas import (
    MAX_INT,
    DiffArgs,
    DiffSchema,
    RollbackSchema,
    VersionListSchema,
    VersionSchema,
)
from api.editing import commit_change, edit_errors, editor, version_view
from api.errors import ApiProblem
from api.extensions import db
from api.openapi import Blueprint
from api.security import require_role
from service.editing import versions
from service.editing.diff import diff
from store.models import Tracklist

bp = Blueprint("versions", __name__, description="Tracklist versions, diffs and rollback.")


def _tracklist(tracklist_id: uuid.UUID) -> Tracklist:
    found = db.session.get(Tracklist, tracklist_id)
    if found is None:
        raise ApiProblem(404, f"no tracklist {tracklist_id}")
    return found


@bp.route("/<uuid:tracklist_id>/versions", methods=["GET"])
@require_role("reader")
@bp.response(200, VersionListSchema)
@bp.alt_response(404, description="No tracklist with this id")
def list_versions(tracklist_id: uuid.UUID) -> dict[str, Any]:
    """Every version, newest first; ``current`` marks the one served."""
    current = _tracklist(tracklist_id).version
    with edit_errors():
        found = versions.versions_of(db.session, tracklist_id)
    return {
        "current_version": current,
        "versions": [version_view(version, current, full=False) for version in found],
    }


@bp.route(f"/<uuid:tracklist_id>/versions/<int(min=1, max={MAX_INT}):version>", methods=["GET"])
@require_role("reader")
@bp.response(200, VersionSchema)
@bp.alt_response(404, description="No such tracklist or version")
def get_version(tracklist_id: uuid.UUID, version: int) -> dict[str, Any]:
    """One version with its whole document."""
    current = _tracklist(tracklist_id).version
    with edit_errors():
        found = versions.version_of(db.session, tracklist_id, version)
    return version_view(found, current, full=True)


@bp.route("/<uuid:tracklist_id>/diff", methods=["GET"])
@require_role("reader")
@bp.arguments(DiffArgs(), location="query")
@bp.response(200, DiffSchema)
@bp.alt_response(404, description="No such tracklist or version")
def diff_versions(args: dict[str, Any], tracklist_id: uuid.UUID) -> dict[str, Any]:
    """What changed from version ``from`` to version ``to`` (default: the current one)."""
    tracklist = _tracklist(tracklist_id)
    to_number = args.get("to_version", tracklist.version)
    with edit_errors():
        before = versions.version_of(db.session, tracklist_id, args["from_version"])
        after = versions.version_of(db.session, tracklist_id, to_number)
    return {
        "from_version": before.version,
        "to_version": after.version,
        **diff(before.content, after.content),
    }


@bp.route("/<uuid:tracklist_id>/rollback", methods=["POST"])
@require_role("editor")
@bp.arguments(RollbackSchema())
@bp.response(201, VersionSchema)
@bp.alt_response(404, description="No such tracklist or version")
@bp.alt_response(409, description="Never published, or already the current content")
def rollback(
    body: dict[str, Any], tracklist_id: uuid.UUID
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Publish an old version's document as a new version (origin ``rollback``)."""
    with edit_errors():
        version = versions.rollback(
            db.session, tracklist_id, body["version"], author=editor(), reason=body.get("reason")
        )
    commit_change(tracklist_id, published=True)
    location = url_for(".get_version", tracklist_id=tracklist_id, version=version.version)
    return version_view(version, version.version, full=True), 201, {"Location": location}

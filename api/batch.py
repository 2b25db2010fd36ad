"""``{prefix}/batch``: batch jobs, many crawl requests or CUE files asked for at once.

- ``POST /batch/crawl`` queues a crawl for each good URL exactly as ``POST /tracklist`` does
  (same SSRF rules, same role); refused URLs are failed items, never a failed request. 202.
- ``POST /batch/cue`` renders stored tracklists (ids or URLs) in one format, records each file
  as ``POST /cue/generate`` does and zips them (``GET /batch/{id}/download``, served from the
  database by any replica). 201.
- ``GET /batch/{id}`` is the progress of one job with its items, counted from the crawl
  requests when read, so it moves as the workers finish; ``GET /batch`` lists the caller's.

The logic is :mod:`service.batches`, :mod:`service.cue_batches` and :mod:`service.batch_progress`;
this module checks input, access and the item limit (``TRACKLIST_BATCH_MAX_ITEMS``). A job is
seen only by the user who made it: anyone else gets 404, as for a job that does not exist.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import Response, send_file, url_for
from flask_jwt_extended import get_jwt

from api.errors import ApiProblem, field_error
from api.extensions import db, settings
from api.openapi import Blueprint
from api.security import require_role
from api.tracklists import crawl_access, crawl_queue
from cue import FORMATS
from service.batch_progress import DONE, FAILED, PENDING, BatchState, batch_state, list_batches
from service.batches import submit_crawl_batch
from service.cue_batches import batch_archive, make_cue_batch
from store.db import make_session_factory
from store.models import User

bp = Blueprint("batch", __name__, description="Batch jobs: many crawls or CUE files at once.")

_ZIP = "application/zip"
_LIMIT_NOTE = "at most TRACKLIST_BATCH_MAX_ITEMS (500 unless configured)"


class BatchCrawlRequestSchema(ma.Schema):
    """Tracklist page URLs to crawl."""

    urls = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": f"tracklist page URLs on the site; {_LIMIT_NOTE}"},
    )
    force_refresh = ma.fields.Boolean(load_default=False)


class BatchCueRequestSchema(ma.Schema):
    """Stored tracklists (ids or page URLs) to render in one format."""

    tracklists = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": f"tracklist ids or page URLs of stored tracklists; {_LIMIT_NOTE}"},
    )
    format = ma.fields.String(load_default="standard", validate=ma.validate.OneOf(list(FORMATS)))
    include_pregap = ma.fields.Boolean(load_default=False)


class BatchListArgs(ma.Schema):
    """Paging."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 10_000))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


class BatchItemSchema(ma.Schema):
    """One input and what became of it."""

    position = ma.fields.Integer(required=True, metadata={"description": "0-based"})
    input = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "done | failed; a queued crawl's own status: queued | running | "
            "done | failed | blocked"
        },
    )
    error = ma.fields.String(allow_none=True, required=True)
    correlation_id = ma.fields.UUID(allow_none=True, required=True)
    status_url = ma.fields.String(allow_none=True, required=True)
    tracklist_id = ma.fields.UUID(allow_none=True, required=True)
    cue_id = ma.fields.UUID(allow_none=True, required=True)


class BatchSummarySchema(ma.Schema):
    """Where a job stands."""

    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "crawl | cue"})
    format = ma.fields.String(allow_none=True, required=True)
    status = ma.fields.String(required=True, metadata={"description": "running | done | failed"})
    total = ma.fields.Integer(required=True)
    done = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    finished_at = ma.fields.DateTime(allow_none=True, required=True)
    download_url = ma.fields.String(allow_none=True, required=True)


class BatchSchema(BatchSummarySchema):
    """A job with its items in input order."""

    items = ma.fields.List(ma.fields.Nested(BatchItemSchema), required=True)


class BatchListSchema(ma.Schema):
    """The caller's jobs, newest first."""

    batches = ma.fields.List(ma.fields.Nested(BatchSummarySchema), required=True)
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)


@bp.route("/crawl", methods=["POST"])
@crawl_access
@bp.arguments(BatchCrawlRequestSchema())
@bp.response(202, BatchSchema)
def crawl_batch(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Queue a crawl for each URL as POST /tracklist would; refused URLs fail alone."""
    urls = _counted(body["urls"], "urls")
    owner_id, name = _owner()
    batch_id = submit_crawl_batch(
        make_session_factory(db.engine),
        crawl_queue(),
        urls,
        max_age=timedelta(hours=settings().api_tracklist_max_age_hours),
        force_refresh=body["force_refresh"],
        user_id=owner_id,
        requested_by=name,
    )
    return _created(batch_id, 202)


@bp.route("/cue", methods=["POST"])
@require_role("reader")
@bp.arguments(BatchCueRequestSchema())
@bp.response(201, BatchSchema)
def cue_batch(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Render stored tracklists into one zip; unknown or unrenderable ones fail alone."""
    inputs = _counted(body["tracklists"], "tracklists")
    owner_id, name = _owner()
    batch_id = make_cue_batch(
        make_session_factory(db.engine),
        settings().cue_storage_dir,
        inputs,
        body["format"],
        include_pregap=body["include_pregap"],
        user_id=owner_id,
        requested_by=name,
    )
    return _created(batch_id, 201)


@bp.route("", methods=["GET"])
@require_role("reader")
@bp.arguments(BatchListArgs(), location="query")
@bp.response(200, BatchListSchema)
def list_jobs(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's batch jobs, newest first, without their items."""
    limit = args["limit"]
    states, total = list_batches(
        db.session, _owner()[0], limit=limit, offset=(args["page"] - 1) * limit
    )
    return {
        "batches": [_summary(state) for state in states],
        "total": total,
        "page": args["page"],
        "limit": limit,
    }


@bp.route("/<uuid:batch_id>", methods=["GET"])
@require_role("reader")
@bp.response(200, BatchSchema)
@bp.alt_response(404, description="No batch job of yours with this id")
def get_batch(batch_id: uuid.UUID) -> dict[str, Any]:
    """A job's progress and items (crawl items follow their crawl requests)."""
    return _document(_own(batch_id))


@bp.route("/<uuid:batch_id>/download", methods=["GET"])
@require_role("reader")
@bp.response(200)
@bp.doc(
    responses={
        "200": {
            "description": "The zip of the CUE files",
            "content": {_ZIP: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
@bp.alt_response(404, description="No CUE batch of yours with this id, or its zip is gone")
def download(batch_id: uuid.UUID) -> Response:
    """The zip of a CUE batch, one file per tracklist that rendered."""
    state = _own(batch_id)
    if state.kind != "cue":
        raise ApiProblem(404, f"batch job {batch_id} is a {state.kind} batch: it has no zip")
    archive = batch_archive(db.session, batch_id, settings().cue_storage_dir)
    if archive is None:  # a job from before migration 0012 whose local zip is gone
        raise ApiProblem(404, f"the zip of batch job {batch_id} is no longer in storage")
    return send_file(
        io.BytesIO(archive),
        mimetype=_ZIP,
        as_attachment=True,
        download_name=f"batch-{batch_id}.zip",
        etag=hashlib.sha256(archive).hexdigest(),
        conditional=True,
    )


def _counted(items: list[str], field: str) -> list[str]:
    """``items`` when there are some and not more than the limit; else a 422 naming ``field``."""
    limit = settings().batch_max_items
    if not items:
        raise field_error(field, "give at least one item")
    if len(items) > limit:
        raise field_error(
            field, f"{len(items)} items: at most {limit} in one batch (TRACKLIST_BATCH_MAX_ITEMS)"
        )
    return items


def _owner() -> tuple[int | None, str | None]:
    """The caller's user id and name; ``(None, None)`` without a token (public crawls)."""
    try:
        claims = get_jwt()
    except RuntimeError:  # TRACKLIST_API_CRAWL_REQUIRES_AUTH=false and no token checked
        return None, None
    user_id = int(claims["sub"])
    # A valid token may outlive its user (deleted within the token's 15 minutes).
    if db.session.get(User, user_id) is None:
        raise ApiProblem(401, "the token's user no longer exists", kind="invalid-token")
    name = claims.get("name")
    return user_id, str(name) if name else None


def _own(batch_id: uuid.UUID) -> BatchState:
    state = batch_state(db.session, batch_id)
    if state is None or state.user_id != _owner()[0]:
        raise ApiProblem(404, f"no batch job {batch_id}")
    return state


def _created(batch_id: uuid.UUID, status: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    location = url_for(".get_batch", batch_id=batch_id)
    return _document(_own(batch_id)), status, {"Location": location}


def _summary(state: BatchState) -> dict[str, Any]:
    return {
        "id": state.id,
        "kind": state.kind,
        "format": state.format,
        "status": state.status,
        "total": state.total,
        "done": state.counts[DONE],
        "failed": state.counts[FAILED],
        "pending": state.counts[PENDING],
        "created_at": state.created_at,
        "finished_at": state.finished_at,
        "download_url": url_for(".download", batch_id=state.id) if state.storage_path else None,
    }


def _document(state: BatchState) -> dict[str, Any]:
    items = [
        {
            "position": item.position,
            "input": item.input,
            "status": item.status,
            "error": item.error,
            "correlation_id": item.correlation_id,
            "status_url": (
                url_for("tracklists.crawl_status", correlation_id=item.correlation_id)
                if item.correlation_id
                else None
            ),
            "tracklist_id": item.tracklist_id,
            "cue_id": item.cue_file_id,
        }
        for item in state.items
    ]
    return {**_summary(state), "items": items}

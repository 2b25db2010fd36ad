"""``{prefix}/cue``: CUE sheets and chapter files generated from stored tracklists.

``POST /cue/generate`` renders a stored tracklist with :mod:`cue` (optionally fitted to and
checked against an audio file under ``TRACKLIST_MEDIA_ROOT``), stores the result in
``cue_files`` and as a file under the storage folder (``TRACKLIST_STORAGE_DIR``), and answers
the CUE File model. ``GET /cue/{id}`` answers it again as JSON, or the file itself when
``?download=1`` or when ``Accept`` prefers the format's media type. The file is served from
the row (``cue_files.content``, the exact text that was written, UTF-8 encoded), so every API
replica serves every file whatever its storage folder holds; the folder is a local copy.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import marshmallow as ma
from flask import Response, request, send_file, url_for
from sqlalchemy import select

from api.cue_render import MEDIA_TYPES, render_tracklist
from api.edit_schemas import MAX_INT
from api.editing import edit_errors
from api.errors import ApiProblem
from api.extensions import db, settings
from api.openapi import Blueprint
from api.security import require_role
from api.tracklists import canonical_url
from cue import FORMATS
from service.cue_export import discard, write_cue_file
from service.editing.versions import version_of
from service.intake import stored_by_url
from store.models import CueFile, Tracklist, TracklistVersion

bp = Blueprint("cue", __name__, description="CUE sheets and chapter files.")

_JSON = "application/json"


class CueRequestSchema(ma.Schema):
    """Which stored tracklist (``tracklist_url`` or ``tracklist_id``), in which format."""

    tracklist_url = ma.fields.String(validate=ma.validate.Length(1, 2048))
    tracklist_id = ma.fields.UUID()
    format = ma.fields.String(load_default="standard", validate=ma.validate.OneOf(list(FORMATS)))
    audio_file_path = ma.fields.String(
        validate=ma.validate.Length(1, 4096),
        metadata={"description": "relative to TRACKLIST_MEDIA_ROOT; checked against the sheet"},
    )
    include_pregap = ma.fields.Boolean(load_default=False)
    version = ma.fields.Integer(
        validate=ma.validate.Range(1, MAX_INT),
        metadata={"description": "a published version of the tracklist; default: the current"},
    )

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("tracklist_url" in data) == ("tracklist_id" in data):
            raise ma.ValidationError("give either tracklist_url or tracklist_id", "tracklist_url")


class CueFileSchema(ma.Schema):
    """The CUE File model."""

    id = ma.fields.UUID(required=True)
    tracklist_id = ma.fields.UUID(required=True)
    tracklist_version = ma.fields.Integer(allow_none=True, required=True)
    format = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    cue_content = ma.fields.String(required=True)
    file_size = ma.fields.Integer(required=True, metadata={"description": "bytes (UTF-8)"})
    checksum = ma.fields.String(required=True, metadata={"example": "sha256:0123…"})
    warnings = ma.fields.List(ma.fields.String(), required=True)
    media_type = ma.fields.String(required=True)
    download_url = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class CueGetArgs(ma.Schema):
    """``download=1``: the file itself instead of JSON."""

    download = ma.fields.Boolean(load_default=False)


class FormatSchema(ma.Schema):
    """One output format."""

    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "cue | chapters | dj-software"})
    suffix = ma.fields.String(required=True)
    media_type = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)


class FormatsSchema(ma.Schema):
    """Every format ``POST /cue/generate`` accepts."""

    formats = ma.fields.List(ma.fields.Nested(FormatSchema), required=True)


_FILE_CONTENT = {
    media_type: {"schema": {"type": "string"}} for media_type in sorted(set(MEDIA_TYPES.values()))
}


@bp.route("/generate", methods=["POST"])
@require_role("reader")
@bp.arguments(CueRequestSchema())
@bp.response(201, CueFileSchema)
@bp.alt_response(404, description="The tracklist (or version) is not stored")
@bp.alt_response(409, description="The version was never published (a held-back crawl)")
def generate(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Render a stored tracklist, store the file, answer it with its checksum and warnings."""
    session = db.session
    tracklist = _tracklist(body)
    rendered = render_tracklist(
        session,
        tracklist,
        body["format"],
        audio_file_path=body.get("audio_file_path"),
        include_pregap=body["include_pregap"],
        version=_version(tracklist, body.get("version")),
    )
    row = write_cue_file(settings().cue_storage_dir, tracklist, body["format"], rendered)
    session.add(row)
    try:
        session.commit()
    except BaseException:
        discard(row)  # no row, no file
        raise
    document = _document(row)
    return document, 201, {"Location": document["download_url"]}


def _tracklist(body: dict[str, Any]) -> Tracklist:
    session = db.session
    if "tracklist_id" in body:
        found = session.get(Tracklist, body["tracklist_id"])
        what = str(body["tracklist_id"])
    else:
        found = stored_by_url(session, canonical_url(body["tracklist_url"], "tracklist_url"))
        what = body["tracklist_url"]
    if found is None or not found.is_published:
        raise ApiProblem(
            404, f"tracklist {what} is not stored; request it with POST /tracklist first"
        )
    return found


def _version(tracklist: Tracklist, number: int | None) -> TracklistVersion | None:
    """The published version to render; ``None`` for the current one."""
    if number is None:
        return None
    with edit_errors():
        found = version_of(db.session, tracklist.id, number)
    if not found.published:
        raise ApiProblem(
            409, f"version {number} is a crawl that was never published", kind="conflict"
        )
    return found


@bp.route("/formats", methods=["GET"])
@bp.response(200, FormatsSchema)
def formats() -> dict[str, Any]:
    """The output formats: CUE variants, DJ software collections, chapter files."""
    return {
        "formats": [
            {
                "name": found.name,
                "kind": found.kind,
                "suffix": found.suffix,
                "media_type": MEDIA_TYPES[found.name],
                "summary": found.summary,
            }
            for found in FORMATS.values()
        ]
    }


@bp.route("/<uuid:cue_id>", methods=["GET"])
@bp.arguments(CueGetArgs(), location="query")
@bp.response(
    200,
    CueFileSchema,
    description="The CUE File as JSON; the file itself with ?download=1 or when Accept "
    "prefers the format's media type",
)
# Keyed by the int status code as bp.response is, so the file types merge into its answer.
@bp.doc(responses={200: {"content": _FILE_CONTENT}})
@bp.alt_response(404, description="No such CUE file")
def get_cue(args: dict[str, Any], cue_id: uuid.UUID) -> Response | dict[str, Any]:
    """The CUE File as JSON, or the file itself (``?download=1`` or ``Accept``)."""
    row = db.session.scalars(select(CueFile).where(CueFile.id == cue_id)).first()
    if row is None:
        raise ApiProblem(404, f"no CUE file {cue_id}")
    media_type = MEDIA_TYPES.get(row.format, "text/plain")
    wanted = request.accept_mimetypes.best_match([_JSON, media_type], default=_JSON)
    if not args["download"] and wanted != media_type:
        return _document(row)
    # From the row, not the storage folder: any replica serves the bytes POST /cue/generate
    # wrote (the checksum is of this encoding), whichever replica wrote them.
    text_type = media_type.startswith("text/") or media_type == "application/x-cue"
    response = send_file(
        io.BytesIO(row.content.encode("utf-8")),
        mimetype=f"{media_type}; charset=utf-8" if text_type else media_type,
        as_attachment=True,
        download_name=row.filename,
        etag=row.checksum.removeprefix("sha256:"),
        last_modified=row.created_at,
        conditional=True,
    )
    return response


def _document(row: CueFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "tracklist_id": row.tracklist_id,
        "tracklist_version": row.tracklist_version,
        "format": row.format,
        "filename": row.filename,
        "cue_content": row.content,
        "file_size": row.file_size,
        "checksum": row.checksum,
        "warnings": list(row.warnings or ()),
        "media_type": MEDIA_TYPES.get(row.format, "text/plain"),
        "download_url": url_for(".get_cue", cue_id=row.id, download=1),
        "created_at": row.created_at,
    }

"""Marshmallow schemas of the editing endpoints: drafts, versions, diffs, conflicts.

A tracklist *document* is what a version stores and a draft edits: title, date, genres and
rows (DJs and sources come from the page and are shown, not edited).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from store.models import CONFLICT_STATUSES, DRAFT_STATUSES

# PostgreSQL integers: larger version numbers or cues would not fit the columns.
MAX_INT = 2_147_483_647
MAX_CUE_MS = 100 * 3600 * 1000
_NUMBER = ma.validate.Range(1, MAX_INT)
_TEXT = ma.validate.Length(1, 500)
_REASON = ma.validate.Length(max=2000)


class EditEntrySchema(ma.Schema):
    """One row as an editor writes it; rows are numbered in list order."""

    position = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(1, 100_000),
        metadata={"description": "the number shown; null on a 'w/' row"},
    )
    cue_ms = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(0, MAX_CUE_MS),
        metadata={"description": "start in milliseconds; null when unknown"},
    )
    played_with_previous = ma.fields.Boolean(load_default=False)
    artist = ma.fields.String(required=True, validate=_TEXT, metadata={"example": "ID"})
    title = ma.fields.String(required=True, validate=_TEXT)
    version = ma.fields.String(load_default=None, allow_none=True, validate=_TEXT)
    label = ma.fields.String(load_default=None, allow_none=True, validate=_TEXT)
    mashup_parts = ma.fields.List(
        ma.fields.String(validate=_TEXT), load_default=list, validate=ma.validate.Length(max=20)
    )


class DraftEditSchema(ma.Schema):
    """The whole editable document (it replaces the draft's); ``reason`` is kept if omitted."""

    title = ma.fields.String(required=True, validate=_TEXT)
    date = ma.fields.Date(required=True, allow_none=True)
    genres = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 100)),
        required=True,
        validate=ma.validate.Length(max=50),
    )
    entries = ma.fields.List(
        ma.fields.Nested(EditEntrySchema), required=True, validate=ma.validate.Length(1, 2000)
    )
    reason = ma.fields.String(validate=_REASON)


class NewDraftSchema(ma.Schema):
    """A draft on the current version, from its document or from ``from_version``'s."""

    reason = ma.fields.String(validate=_REASON)
    from_version = ma.fields.Integer(
        validate=_NUMBER, metadata={"description": "e.g. a held-back crawl, to merge it"}
    )


class ReasonSchema(ma.Schema):
    """Why (defaults to the draft's reason)."""

    reason = ma.fields.String(validate=_REASON)


class RollbackSchema(ma.Schema):
    """Publish ``version``'s document again, as a new version."""

    version = ma.fields.Integer(required=True, validate=_NUMBER)
    reason = ma.fields.String(validate=_REASON)


class ResolveSchema(ma.Schema):
    """``keep`` the edit, ``accept`` the crawl, or ``merge``: publish ``draft_id``."""

    action = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["keep", "accept", "merge"])
    )
    draft_id = ma.fields.UUID(metadata={"description": "required with merge"})
    reason = ma.fields.String(validate=_REASON)

    @ma.validates_schema
    def _draft_for_merge(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("action") == "merge" and "draft_id" not in data:
            raise ma.ValidationError("merge needs the draft to publish", "draft_id")


class DraftListArgs(ma.Schema):
    """Only drafts in this status."""

    status = ma.fields.String(validate=ma.validate.OneOf(DRAFT_STATUSES))


class DiffArgs(ma.Schema):
    """Two versions: ``to`` defaults to the current one."""

    from_version = ma.fields.Integer(data_key="from", required=True, validate=_NUMBER)
    to_version = ma.fields.Integer(data_key="to", validate=_NUMBER)


class EntrySchema(ma.Schema):
    """One row of a document."""

    row = ma.fields.Integer(required=True, metadata={"description": "1-based"})
    position = ma.fields.Integer(allow_none=True, required=True)
    cue_ms = ma.fields.Integer(allow_none=True, required=True)
    played_with_previous = ma.fields.Boolean(required=True)
    artist = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    version = ma.fields.String(allow_none=True, required=True)
    label = ma.fields.String(allow_none=True, required=True)
    is_id = ma.fields.Boolean(required=True, metadata={"description": "artist or title is ID"})
    mashup_parts = ma.fields.List(ma.fields.String(), required=True)


class DocumentSchema(ma.Schema):
    """A version's (or a draft's) document."""

    title = ma.fields.String(required=True)
    date = ma.fields.String(allow_none=True, required=True, metadata={"format": "date"})
    genres = ma.fields.List(ma.fields.String(), required=True)
    djs = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "read-only"})
    sources = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "read-only"}
    )
    entries = ma.fields.List(ma.fields.Nested(EntrySchema), required=True)


class ProblemItemSchema(ma.Schema):
    """A rule the document breaks."""

    field = ma.fields.String(required=True, metadata={"example": "entries.3.cue_ms"})
    message = ma.fields.String(required=True)


class DraftSummarySchema(ma.Schema):
    """A draft without its document."""

    id = ma.fields.UUID(required=True)
    tracklist_id = ma.fields.UUID(required=True)
    base_version = ma.fields.Integer(required=True)
    author = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True, required=True)
    status = ma.fields.String(required=True, metadata={"description": " | ".join(DRAFT_STATUSES)})
    published_version = ma.fields.Integer(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class DraftSchema(DraftSummarySchema):
    """A draft, its document, and what stops it from being published (empty: nothing)."""

    document = ma.fields.Nested(DocumentSchema, required=True)
    problems = ma.fields.List(ma.fields.Nested(ProblemItemSchema), required=True)


class DraftListSchema(ma.Schema):
    """A tracklist's drafts, newest first."""

    drafts = ma.fields.List(ma.fields.Nested(DraftSummarySchema), required=True)


class VersionSummarySchema(ma.Schema):
    """A version without its document."""

    version = ma.fields.Integer(required=True)
    origin = ma.fields.String(required=True, metadata={"description": "crawl | edit | rollback"})
    published = ma.fields.Boolean(
        required=True, metadata={"description": "false: a crawl held back by a conflict"}
    )
    current = ma.fields.Boolean(required=True)
    base_version = ma.fields.Integer(allow_none=True, required=True)
    author = ma.fields.String(allow_none=True, required=True)
    reason = ma.fields.String(allow_none=True, required=True)
    track_count = ma.fields.Integer(required=True)
    content_hash = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class VersionSchema(VersionSummarySchema):
    """A version and its document."""

    document = ma.fields.Nested(DocumentSchema, required=True)


class VersionListSchema(ma.Schema):
    """A tracklist's versions, newest first."""

    current_version = ma.fields.Integer(required=True)
    versions = ma.fields.List(ma.fields.Nested(VersionSummarySchema), required=True)


class FieldChangeSchema(ma.Schema):
    """A metadata field that differs."""

    field = ma.fields.String(required=True)
    # "from", "to" and "fields" are not usable as attribute names here (keyword, Schema.fields).
    from_value = ma.fields.Raw(attribute="from", data_key="from", allow_none=True, required=True)
    to_value = ma.fields.Raw(attribute="to", data_key="to", allow_none=True, required=True)


class EntryChangeSchema(ma.Schema):
    """A row added, removed or changed (``fields`` lists what changed)."""

    change = ma.fields.String(required=True, metadata={"description": "added | removed | changed"})
    from_row = ma.fields.Integer(allow_none=True, required=True)
    to_row = ma.fields.Integer(allow_none=True, required=True)
    changed_fields = ma.fields.List(
        ma.fields.String(), attribute="fields", data_key="fields", required=True
    )
    before = ma.fields.Nested(EntrySchema, allow_none=True, required=True)
    after = ma.fields.Nested(EntrySchema, allow_none=True, required=True)


class DiffSchema(ma.Schema):
    """What changed from one version to another."""

    from_version = ma.fields.Integer(required=True)
    to_version = ma.fields.Integer(required=True)
    metadata = ma.fields.List(ma.fields.Nested(FieldChangeSchema), required=True)
    entries = ma.fields.List(ma.fields.Nested(EntryChangeSchema), required=True)


class ConflictSchema(ma.Schema):
    """A re-crawl held back for an editor: it disagrees with an edit, or looks cut short."""

    id = ma.fields.UUID(required=True)
    tracklist_id = ma.fields.UUID(required=True)
    status = ma.fields.String(
        required=True, metadata={"description": " | ".join(CONFLICT_STATUSES)}
    )
    kind = ma.fields.String(
        required=True,
        metadata={"description": "edit (a human edit is published) | short_page (cut short)"},
    )
    reason = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "why a short page was held"}
    )
    edit_version = ma.fields.Integer(
        required=True, metadata={"description": "published when it was held (0: none yet)"}
    )
    crawl_version = ma.fields.Integer(required=True)
    resolution_version = ma.fields.Integer(allow_none=True, required=True)
    resolved_by = ma.fields.String(allow_none=True, required=True)
    resolved_at = ma.fields.DateTime(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    diff_url = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the published version against the crawl (none: nothing is)"},
    )


class ConflictListSchema(ma.Schema):
    """A tracklist's conflicts, newest first."""

    conflicts = ma.fields.List(ma.fields.Nested(ConflictSchema), required=True)

"""``file.changed`` events: validate the changed CUE file; regenerate ours if it went stale.

Event body (the file watcher's): ``{"file_path": "/music/set.cue", "file_type": "cue",
"change_type": "created|modified|deleted|moved"}``. Other file types are acknowledged and
ignored. Only files ending in ``.cue`` and at most :data:`MAX_BYTES` long are read, and only
under ``TRACKLIST_MEDIA_ROOT`` or the CUE storage folder (our own generated files), as
:func:`service.media.media_file` decides for the API too: no link is followed out of them.

Every CUE event gets a ``cue.validated`` event: ``status`` ``valid`` / ``invalid`` (the
:mod:`cue` parser's and validator's errors and warnings, with line numbers) or ``missing``:
a file outside those folders, gone or not a regular file, all alike (the one error is
:data:`service.media.NOT_A_MEDIA_FILE`).
When the file is one we generated (``cue_files.storage_path``) and its tracklist has a newer
version than the file was generated from, the file is generated again from the current
version, in the same format, as a NEW ``cue_files`` row and file (the old one stays
retrievable), and ``cue.generated`` says so (``replaces`` = the old file's id).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import cue
from messaging.consumers import fields
from messaging.consumers.runner import Effect, Malformed, Message
from service.cue_source import cue_tracklist
from service.media import NOT_A_MEDIA_FILE, MediaPathRefused, UnusablePath, media_file
from store.files import write_atomically
from store.models import CueFile, Tracklist
from store.outbox import add_event

CUE_VALIDATED = "cue.validated"
CUE_GENERATED = "cue.generated"
MAX_BYTES = 5 * 1024 * 1024
# Ids of regenerated files derive from the message (uuid5): a retried message rewrites the
# same file instead of leaving an orphan behind.
_NAMESPACE = uuid.UUID("0c7c8f7e-2b8a-4d7e-9a55-6f3f1d2e4b10")


@dataclass(frozen=True, slots=True)
class Regenerated:
    """A file generated again, written to disk, waiting for its row."""

    row: dict[str, Any]
    path: Path


class FileHandler:
    """Validates CUE files with :mod:`cue` and regenerates stale ones we generated."""

    name = "files"

    def __init__(
        self, sessions: sessionmaker[Session], storage_dir: Path, media_root: Path | None
    ) -> None:
        self.sessions = sessions
        self.storage_dir = storage_dir
        # Where files may be read: the media root first (relative paths are read against it).
        self.roots = [root for root in (media_root, storage_dir) if root is not None]

    def prepare(self, message: Message) -> Effect:
        """Read and validate the file, regenerate if stale; the effect stores and publishes."""
        body = message.body
        raw_path = fields.text(body, "file_path", max_length=4096)
        file_type = fields.text(body, "file_type", max_length=32).lower()
        change_type = fields.text(body, "change_type", max_length=32, default="modified").lower()
        if file_type != "cue":
            return lambda _session: "ignored"
        if "\x00" in raw_path or not raw_path.lower().endswith(".cue"):
            raise Malformed("file_path must name a .cue file")
        try:
            path = media_file(raw_path, self.roots)
        except UnusablePath as unusable:
            raise Malformed(f"file_path: {unusable}") from None
        except MediaPathRefused:
            report, ours, regenerated = _missing(), None, None
        else:
            report = _validate(path, change_type)
            ours, regenerated = self._regenerate_if_stale(path, message.message_id)
        event = {
            "file_path": raw_path,
            "file_type": file_type,
            "change_type": change_type,
            **report,
            "cue_file_id": str(ours.id) if ours else None,
            "tracklist_id": str(ours.tracklist_id) if ours else None,
            "regenerated_cue_file_id": str(regenerated.row["id"]) if regenerated else None,
        }

        def effect(session: Session) -> str:
            add_event(session, CUE_VALIDATED, event, correlation_id=message.correlation_id)
            if regenerated is None:
                return str(report["status"])
            if session.get(CueFile, regenerated.row["id"]) is None:
                session.add(CueFile(**regenerated.row))
            row = regenerated.row
            generated = {
                "cue_file_id": str(row["id"]),
                "tracklist_id": str(row["tracklist_id"]),
                "tracklist_version": row["tracklist_version"],
                "format": row["format"],
                "filename": row["filename"],
                "storage_path": row["storage_path"],
                "file_size": row["file_size"],
                "checksum": row["checksum"],
                "replaces": event["cue_file_id"],
                "reason": "tracklist changed since the file was generated",
            }
            add_event(session, CUE_GENERATED, generated, correlation_id=message.correlation_id)
            return "regenerated"

        return effect

    def _regenerate_if_stale(
        self, path: Path, message_id: str
    ) -> tuple[CueFile | None, Regenerated | None]:
        with self.sessions() as session:
            ours = session.scalars(
                select(CueFile)
                .where(CueFile.storage_path.in_({str(path), str(path.resolve())}))
                .order_by(CueFile.created_at.desc())
            ).first()
            if ours is None:
                return None, None
            tracklist = session.get(Tracklist, ours.tracklist_id)
            if tracklist is None or ours.tracklist_version == tracklist.version:
                return ours, None
            try:
                result = cue.export(cue_tracklist(session, tracklist), ours.format)
            except cue.CueError:
                return ours, None  # the current version cannot be rendered: keep the old file
            file_id = uuid.uuid5(_NAMESPACE, f"{message_id}:{ours.id}")
            data = result.documents[0].encode("utf-8")
            suffix = cue.FORMATS[ours.format].suffix
            written = write_atomically(self.storage_dir, f"{file_id}{suffix}", data)
            row = {
                "id": file_id,
                "tracklist_id": tracklist.id,
                "tracklist_version": tracklist.version,
                "format": ours.format,
                "filename": ours.filename,
                "content": result.documents[0],
                "file_size": len(data),
                "checksum": f"sha256:{hashlib.sha256(data).hexdigest()}",
                "storage_path": str(written.resolve()),
                "warnings": [str(notice) for notice in result.notices],
            }
            return ours, Regenerated(row, written)


def _missing() -> dict[str, Any]:
    """The one report for a file gone, elsewhere or no regular file: they are not told apart."""
    return {"status": "missing", "errors": [NOT_A_MEDIA_FILE], "warnings": [], "tracks": None}


def _validate(path: Path, change_type: str) -> dict[str, Any]:
    """The state of the file at ``path`` (real, under a root) as ``cue.validated`` reports it."""
    if change_type == "deleted":
        return _missing()
    try:
        if path.stat().st_size > MAX_BYTES:
            return {**_missing(), "status": "invalid", "errors": [f"larger than {MAX_BYTES} bytes"]}
        text, problems = cue.decode(path.read_bytes())
    except OSError:
        return _missing()  # gone between the check and the read
    parsed = cue.parse(text)
    problems = [*problems, *parsed.problems]
    return {
        "status": "invalid" if cue.has_errors(problems) else "valid",
        "errors": [str(problem) for problem in problems if problem.severity == "error"],
        "warnings": [str(problem) for problem in problems if problem.severity == "warning"],
        "tracks": len(parsed.sheet.tracks()),
    }

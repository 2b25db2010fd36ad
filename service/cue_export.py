"""A stored tracklist rendered with :mod:`cue`, kept as a ``cue_files`` row and a file.

``POST /cue/generate`` (:mod:`api.cue_files`, which adds the audio check) and batch CUE jobs
(:mod:`service.cue_batches`) render and record files the same way: the text from
:func:`cue.export`, a file name from the tracklist's slug, the file written whole under the
storage folder (``TRACKLIST_STORAGE_DIR``) and a row with its checksum and warnings.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cue import FORMATS, CueError, CueSheet, Options, export
from service.cue_source import cue_tracklist
from store.files import write_atomically
from store.models import CueFile, Tracklist, TracklistVersion

_SLUG = re.compile(r"/tracklist/[^/]+/([0-9a-z][0-9a-z_-]*)\.html$")


class RenderError(Exception):
    """The tracklist cannot be rendered in this format; the message says why."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """The output text, its suggested file name, the warnings to hand back, and the CUE
    models behind the text (empty for other kinds) for checks against an audio file."""

    text: str
    filename: str
    warnings: list[str]
    sheets: tuple[CueSheet, ...] = ()
    version: int | None = None  # the tracklist version rendered (None: the current one)


def render_stored(
    session: Session,
    tracklist: Tracklist,
    format_name: str,
    options: Options | None = None,
    version: TracklistVersion | None = None,
) -> Rendered:
    """Render ``tracklist`` (its current version, or ``version``) as ``format_name``.

    :class:`RenderError` when :mod:`cue` refuses.
    """
    try:
        result = export(cue_tracklist(session, tracklist, version), format_name, options)
    except CueError as exc:
        raise RenderError(str(exc)) from None
    if len(result.documents) != 1:  # only when splitting, which these options never ask for
        raise RenderError("the tracklist does not fit one file")
    match = _SLUG.search(tracklist.url)
    stem = match.group(1) if match else "tracklist"
    return Rendered(
        result.documents[0],
        f"{stem}{FORMATS[format_name].suffix}",
        [str(notice) for notice in result.notices],
        result.sheets,
        version.version if version is not None else tracklist.version,
    )


def write_cue_file(
    storage_dir: Path, tracklist: Tracklist, format_name: str, rendered: Rendered
) -> CueFile:
    """Write the file under ``storage_dir`` and return its row, not yet added to a session.

    The caller adds and commits the row, and calls :func:`discard` if that fails, so there is
    never a file without its row.
    """
    data = rendered.text.encode("utf-8")
    cue_id = uuid.uuid4()
    path = write_atomically(storage_dir, f"{cue_id}{FORMATS[format_name].suffix}", data)
    return CueFile(
        id=cue_id,
        tracklist_id=tracklist.id,
        tracklist_version=rendered.version or tracklist.version,
        format=format_name,
        filename=rendered.filename,
        content=rendered.text,
        file_size=len(data),
        checksum=f"sha256:{hashlib.sha256(data).hexdigest()}",
        storage_path=str(path.resolve()),
        warnings=rendered.warnings,
    )


def discard(row: CueFile) -> None:
    """Remove the file of a row that was not committed."""
    if row.storage_path:
        Path(row.storage_path).unlink(missing_ok=True)

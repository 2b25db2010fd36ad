"""Batch CUE jobs: many stored tracklists rendered in one format, delivered as one zip.

Each input is a tracklist id or the URL of a stored tracklist. Each tracklist that renders is
recorded exactly as ``POST /cue/generate`` records one (:mod:`service.cue_export`: a
``cue_files`` row and its file under the storage folder) and added to the zip, which is kept
in the job's row (``batch_jobs.archive``, so any API replica serves it) and copied under the
same folder as ``batch-<id>.zip``. An input that names nothing stored, or a
tracklist :mod:`cue` cannot render, is a failed item with its reason; it never fails the job.
The same tracklist named twice is rendered once and both items share the file.

Everything is one transaction: if it fails, the files written so far are removed again.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cue import FORMATS, Options
from domain.site import UrlRejected, canonical_public_url
from service.batches import Outcome, item_row
from service.cue_export import RenderError, discard, render_stored, write_cue_file
from service.intake import stored_by_url
from store.db import session_scope
from store.files import read_stored, write_atomically
from store.models import BatchItem, BatchJob, CueFile, Tracklist


def make_cue_batch(
    sessions: sessionmaker[Session],
    storage_dir: Path,
    inputs: Sequence[str],
    format_name: str,
    *,
    include_pregap: bool = False,
    user_id: int | None = None,
    requested_by: str | None = None,
    on_item: Callable[[], None] | None = None,
) -> uuid.UUID:
    """Render every input in ``format_name`` (a key of :data:`cue.FORMATS`) into one zip;
    returns the new job's id. ``on_item`` is called after each input (a progress bar's step).
    """
    if format_name not in FORMATS:
        raise ValueError(f"unknown format {format_name!r}")
    batch_id = uuid.uuid4()
    batch = _Batch(storage_dir, format_name, Options(include_pregap=include_pregap))
    try:
        with session_scope(sessions) as session:
            items: list[BatchItem] = []
            for position, raw in enumerate(inputs):
                items.append(item_row(batch_id, position, raw, batch.add(session, raw)))
                if on_item is not None:
                    on_item()
            archive = batch.archive()
            batch.archive_path = write_atomically(storage_dir, f"batch-{batch_id}.zip", archive)
            session.add(
                BatchJob(
                    id=batch_id,
                    kind="cue",
                    user_id=user_id,
                    requested_by=requested_by,
                    format=format_name,
                    storage_path=str(batch.archive_path.resolve()),
                    archive=archive,
                )
            )
            session.add_all(batch.files)
            session.flush()  # job and files first: the items refer to them
            session.add_all(items)
    except BaseException:
        batch.discard()  # no rows, no files
        raise
    return batch_id


def batch_archive(session: Session, batch_id: uuid.UUID, storage_dir: Path) -> bytes | None:
    """The zip of a CUE batch, or ``None`` when there is none to serve.

    From the database, whichever host made it; only a job made before the zips were kept
    there (migration 0012) falls back to its local copy under ``storage_dir``, which this host
    has only if it made the job or shares the folder.
    """
    found = session.execute(
        select(BatchJob.archive, BatchJob.storage_path).where(BatchJob.id == batch_id)
    ).first()
    if found is None:
        return None
    archive, stored = found
    return archive if archive is not None else read_stored(storage_dir, stored)


class _Batch:
    """The files rendered so far and the zip members they become."""

    def __init__(self, storage_dir: Path, format_name: str, options: Options) -> None:
        self.storage_dir = storage_dir
        self.format_name = format_name
        self.options = options
        self.files: list[CueFile] = []
        self.members: dict[str, bytes] = {}
        self.archive_path: Path | None = None
        self._by_tracklist: dict[uuid.UUID, Outcome] = {}

    def add(self, session: Session, raw: str) -> Outcome:
        """Find, render and record one input's tracklist."""
        tracklist, error = _find(session, raw)
        if tracklist is None:
            return Outcome("failed", error=error)
        if tracklist.id in self._by_tracklist:
            return self._by_tracklist[tracklist.id]
        try:
            rendered = render_stored(session, tracklist, self.format_name, self.options)
        except RenderError as exc:
            outcome = Outcome("failed", error=str(exc), tracklist_id=tracklist.id)
        else:
            row = write_cue_file(self.storage_dir, tracklist, self.format_name, rendered)
            self.files.append(row)
            self.members[_unique(rendered.filename, self.members)] = rendered.text.encode()
            outcome = Outcome("done", tracklist_id=tracklist.id, cue_file_id=row.id)
        self._by_tracklist[tracklist.id] = outcome
        return outcome

    def archive(self) -> bytes:
        """The zip of every rendered file, under its suggested file name."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.members.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    def discard(self) -> None:
        """Remove every file written (the transaction failed)."""
        for row in self.files:
            discard(row)
        if self.archive_path is not None:
            self.archive_path.unlink(missing_ok=True)


def _find(session: Session, raw: str) -> tuple[Tracklist | None, str | None]:
    """The stored tracklist an input names by id or URL, or why there is none."""
    text = raw.strip()
    try:
        tracklist_id = uuid.UUID(text)
    except ValueError:
        pass
    else:
        found = session.get(Tracklist, tracklist_id)
        if found is None or not found.is_published:
            return None, f"no stored tracklist {tracklist_id}"
        return found, None
    try:
        url = canonical_public_url(text)
    except UrlRejected as exc:
        return None, f"neither a tracklist id nor a tracklist URL: {exc}"
    found = stored_by_url(session, url)
    return found, None if found else f"tracklist {url} is not stored; crawl it first"


def _unique(name: str, taken: dict[str, bytes]) -> str:
    """``name``, or ``stem-2.suffix``, ``stem-3.suffix``… when two sets share a slug."""
    path = PurePath(name)
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{path.stem}-{number}{path.suffix}"
    return candidate

"""Files the service writes (generated CUE sheets, batch zips): whole or not at all, and read
back only from inside the folder they were written to."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``directory/name`` (created if needed) so readers never see half."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_stored(directory: Path, stored_path: str | None) -> bytes | None:
    """The bytes of a file written under ``directory``, or ``None`` when it is not there.

    ``None`` too for a path that resolves outside ``directory`` (a row written when the folder
    was elsewhere, or a link leading out): nothing outside it is read.
    """
    if not stored_path:
        return None
    root = directory.resolve()
    try:
        real = Path(stored_path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    try:
        return real.read_bytes()
    except OSError:  # removed between the check and the read
        return None

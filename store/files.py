"""Files the service writes (generated CUE sheets): whole or not at all."""

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

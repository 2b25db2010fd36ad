"""Helpers for the cue tests: real readers (skip locally, fail in CI), audio files, data."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from cli.cue import to_tracklist
from cue import Entry, Tracklist

REAL_EXPECTED = Path(__file__).resolve().parents[3] / "shared" / "real-pages" / "expected"
# Names only, for parametrising at collection; tests read the files via `real_pages`.
REAL_TRACKLISTS = sorted(path.name for path in REAL_EXPECTED.glob("tracklist_*.json"))

CD_RATE = 44100
CD_BYTES_PER_SECOND = CD_RATE * 2 * 2


def require(binary: str) -> str:
    """The path of ``binary``; skip when missing locally, fail when ``CI`` is set."""
    found = shutil.which(binary)
    if found is None:
        reason = f"{binary} is not installed (apt: see .ci/apt-packages.txt)"
        if os.environ.get("CI"):
            pytest.fail(f"required reader missing in CI: {reason}")
        pytest.skip(reason)
    return found


def load_real(real_pages: Path, name: str) -> Tracklist:
    """A real tracklist from ``expected/`` as the library's value."""
    document = json.loads((real_pages / "expected" / name).read_text(encoding="utf-8"))
    return to_tracklist(document)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a reader, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        timeout=120,
    )


def sparse_wav(path: Path, seconds: float) -> Path:
    """A CD-quality WAV of ``seconds`` whose data is a hole: any length costs nothing."""
    size = int(seconds * CD_BYTES_PER_SECOND) // 4 * 4
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 2, CD_RATE, CD_BYTES_PER_SECOND, 4, 16)
        + b"data"
        + struct.pack("<I", size)
    )
    path.write_bytes(header)
    os.truncate(path, len(header) + size)
    return path


def silent_flac(path: Path, seconds: float = 1) -> Path:
    """``seconds`` of 44.1 kHz/16-bit stereo silence as FLAC (sox)."""
    sox = require("sox")
    result = run(sox, "-n", "-r", "44100", "-b", "16", "-c", "2", path, "trim", "0", str(seconds))
    assert result.returncode == 0, result.stderr
    return path


def silent_audio(path: Path, seconds: float, rate: int = 8000) -> Path:
    """Mono silence in the container/codec ffmpeg picks from ``path``'s extension."""
    ffmpeg = require("ffmpeg")
    result = run(
        ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=mono",
        "-t", str(seconds), path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return path


def row(number: int, cue_s: float | None, artist: str | None = None, **kwargs: object) -> Entry:
    """A tracklist row with a cue in seconds (``None``: no cue)."""
    cue_ms = None if cue_s is None else round(cue_s * 1000)
    artist = f"Artist {number}" if artist is None else artist
    return Entry(number, artist, f"Title {number}", cue_ms, **kwargs)  # type: ignore[arg-type]


def tracklist(*entries: Entry, **kwargs: object) -> Tracklist:
    """A small set around ``entries``."""
    defaults: dict[str, object] = {
        "title": "DJ One @ Club 2024-10-25",
        "djs": ("DJ One",),
        "date": "2024-10-25",
        "genres": ("Techno",),
    }
    return Tracklist(entries=entries, **{**defaults, **kwargs})  # type: ignore[arg-type]


def evenly(count: int, every_s: float) -> Tracklist:
    """``count`` rows ``every_s`` seconds apart, all with cues."""
    return tracklist(*(row(n, (n - 1) * every_s) for n in range(1, count + 1)))

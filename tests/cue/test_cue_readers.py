"""Every real tracklist through every format, and each output through its real readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from cue_readers import check_output
from cue_support import REAL_TRACKLISTS, load_real

from cue import FORMATS, Options, export, plan
from cue.plan import MissingCue


@pytest.mark.parametrize("missing_cue", ["fold", "estimate"])
@pytest.mark.parametrize("format_name", sorted(FORMATS))
@pytest.mark.parametrize("name", REAL_TRACKLISTS)
def test_real_tracklist_through_real_readers(
    real_pages: Path, tmp_path: Path, name: str, format_name: str, missing_cue: MissingCue
) -> None:
    tracklist = load_real(real_pages, name)
    # split: the CD profiles refuse sets over 99 minutes otherwise (estimate makes some).
    long_set = "split" if format_name in ("cd", "cdj") else None
    options = Options(missing_cue=missing_cue, long_set=long_set)
    result = export(tracklist, format_name, options)
    check_output(format_name, result, plan(tracklist, missing_cue=missing_cue), tmp_path)

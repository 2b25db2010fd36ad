"""Every real tracklist through every format, and each output through its real readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from cue_readers import check_output
from cue_support import REAL_TRACKLISTS, evenly, load_real, require, run, silent_flac, sparse_wav

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


def test_bom_breaks_cuetools_and_cdrdao_which_is_why_it_is_opt_in(tmp_path: Path) -> None:
    text = export(evenly(3, 60), "standard", Options(bom=True)).documents[0]
    assert text.startswith("\ufeff")
    (tmp_path / "bom.cue").write_text(text, encoding="utf-8")
    printed = run(require("cueprint"), tmp_path / "bom.cue")
    assert "bad character" in printed.stderr
    sparse_wav(tmp_path / "mix.wav", 300)
    toc = run(require("cdrdao"), "show-toc", "bom.cue", cwd=tmp_path)
    assert toc.returncode != 0
    # metaflac, a tolerant reader, takes it: the option exists for such tools.
    flac = silent_flac(tmp_path / "t.flac")
    imported = run(require("metaflac"), f"--import-cuesheet-from={tmp_path / 'bom.cue'}", flac)
    assert imported.returncode == 0, imported.stderr

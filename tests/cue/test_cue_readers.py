"""Every real tracklist through every format, and each output through its real readers."""

from __future__ import annotations

from pathlib import Path

import pylibcue
import pytest
from cue_readers import check_output, check_shnsplit
from cue_support import REAL_TRACKLISTS, evenly, load_real, require, run, silent_flac, sparse_wav

from cue import FORMATS, Options, export, parse, plan
from cue.plan import MissingCue

pytestmark = pytest.mark.programs


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


def _broken(*times: str, title: str = "T") -> str:
    lines = ['FILE "mix.wav" WAVE']
    for number, time in enumerate(times, start=1):
        lines += [f"  TRACK {number:02d} AUDIO", f'    TITLE "{title}"', f"    INDEX 01 {time}"]
    return "\n".join(lines) + "\n"


BROKEN = {
    "frames 75": _broken("00:00:00", "01:00:75"),
    "equal starts": _broken("00:00:00", "01:00:00", "01:00:00"),
    "out of order": _broken("00:00:00", "02:00:00", "01:00:00"),
    "track 100": _broken(*(f"{minute:02d}:00:00" for minute in range(100))),
    "first index not zero": _broken("00:00:01", "01:00:00"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_metaflac_rejects_what_our_parser_calls_an_error(tmp_path: Path, case: str) -> None:
    text = BROKEN[case]
    assert any(problem.severity == "error" for problem in parse(text).problems)
    (tmp_path / "broken.cue").write_text(text, encoding="utf-8")
    flac = silent_flac(tmp_path / "t.flac")
    result = run(require("metaflac"), f"--import-cuesheet-from={tmp_path / 'broken.cue'}", flac)
    assert result.returncode != 0
    assert "ERROR" in result.stderr


def test_over_99_minutes_is_read_by_some_readers_and_not_others(tmp_path: Path) -> None:
    """Why a long set is a warning in ``standard`` and an error in ``cd``."""
    result = export(evenly(3, 3000), "standard")
    text, sheet = result.documents[0], result.sheets[0]
    assert "INDEX 01 100:00:00" in text
    (tmp_path / "long.cue").write_text(text, encoding="utf-8")
    flac = silent_flac(tmp_path / "t.flac")
    accepted = run(require("metaflac"), f"--import-cuesheet-from={tmp_path / 'long.cue'}", flac)
    assert accepted.returncode == 0, accepted.stderr
    check_shnsplit(text, sheet, tmp_path)  # accepts and splits
    assert [track.start for track in pylibcue.Cd.from_str(text)] == [(0, 0, 0), (50, 0, 0), None]
    sparse_wav(tmp_path / "mix.wav", 6200)
    refused = run(require("cdrdao"), "show-toc", "long.cue", cwd=tmp_path)
    assert refused.returncode != 0


def test_stray_quotes_break_libcue_and_cdrdao(tmp_path: Path) -> None:
    """Why quotes inside values are replaced: other tools' sheets fail like this."""
    text = _broken("00:00:00", "01:00:00", title='Say "Hi" now')
    assert any(problem.severity == "error" for problem in parse(text).problems)
    (tmp_path / "quotes.cue").write_text(text, encoding="utf-8")
    sparse_wav(tmp_path / "mix.wav", 120)
    assert run(require("cdrdao"), "show-toc", "quotes.cue", cwd=tmp_path).returncode != 0
    titles = [track.cdtext.title for track in pylibcue.Cd.from_str(text)]
    assert titles != ['Say "Hi" now'] * 2

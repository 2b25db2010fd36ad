"""``tracklists cue``: JSON and HTML in, sheet on stdout or --out, warnings on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cue_support import REAL_TRACKLISTS, silent_flac, sparse_wav

from cli.main import main
from cue import parse

MAX_STYLER = "tracklist_1pmwyfn1_max-styler_edc-las-vegas_2025-05-16.json"


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["cue", *map(str, args)])


def _expected(real_pages: Path, name: str) -> Path:
    return real_pages / "expected" / name


def test_json_to_standard_on_stdout_with_warnings_on_stderr(real_pages: Path) -> None:
    result = _run(_expected(real_pages, MAX_STYLER), "--format", "standard")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('REM GENRE "House, Tech House"\n')
    assert parse(result.stdout).problems == []
    assert "warning: row 13: 'w/' row joins row 12\n" in result.stderr
    assert "warning: rows 24, 25, 26, 27, 28, 29, 30: no cue: folded" in result.stderr
    assert "warning" not in result.stdout


def test_out_writes_the_file(real_pages: Path, tmp_path: Path) -> None:
    out = tmp_path / "set.vtt"
    result = _run(_expected(real_pages, MAX_STYLER), "--format", "webvtt", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("WEBVTT\n\n1\n00:00:00.000 --> ")


def test_options_reach_the_library(real_pages: Path) -> None:
    args = [
        "--format",
        "cd",
        "--missing-cue",
        "estimate",
        "--include-pregap",
        "--long-set",
        "split",
    ]
    result = _run(_expected(real_pages, MAX_STYLER), *args)
    assert result.exit_code == 0, result.stderr
    assert "INDEX 00" in result.stdout
    assert "no cue: start estimated" in result.stderr
    assert 'FILE "mix.part2.wav" WAVE' in result.stdout
    refused = _run(_expected(real_pages, MAX_STYLER), "--format", "cd", "--bom")
    assert refused.exit_code == 1
    assert refused.stderr == "Error: the cd profile forbids a byte order mark (cdrdao)\n"


def test_audio_file_names_the_file_and_is_checked(real_pages: Path, tmp_path: Path) -> None:
    source = _expected(real_pages, MAX_STYLER)
    fits = sparse_wav(tmp_path / "edc.wav", 4500)
    result = _run(source, "--format", "standard", "--audio-file", fits)
    assert result.exit_code == 0, result.stderr
    assert 'FILE "edc.wav" WAVE' in result.stdout
    short = silent_flac(tmp_path / "short.flac", 60)
    refused = _run(source, "--format", "standard", "--audio-file", short)
    assert refused.exit_code == 1
    assert "audio error: track 22 starts at 1:13:20, after the end (1:00)" in refused.stderr
    assert refused.stderr.endswith("Error: the sheet does not fit short.flac\n")


def test_split_sheets_need_out(tmp_path: Path) -> None:
    entries = [
        {"row": n, "artist": "A", "title": f"T{n}", "cue_seconds": n * 30} for n in range(101)
    ]
    source = tmp_path / "big.json"
    source.write_text(
        json.dumps({"page_type": "tracklist", "title": "Big", "entries": entries}),
        encoding="utf-8",
    )
    refused = _run(source, "--format", "standard")
    assert refused.exit_code == 1
    assert "101 tracks: a CUE sheet holds 99" in refused.stderr
    split = ["--format", "standard", "--too-many-tracks", "split"]
    no_out = _run(source, *split)
    assert "2 sheets (more than 99 tracks): give --out" in no_out.stderr
    written = _run(source, *split, "--out", tmp_path / "big.cue")
    assert written.exit_code == 0, written.stderr
    assert sorted(path.name for path in tmp_path.glob("big.disc*.cue")) == [
        "big.disc1.cue",
        "big.disc2.cue",
    ]


@pytest.mark.parametrize("name", REAL_TRACKLISTS)
def test_saved_html_page_through_the_parsers(real_pages: Path, name: str) -> None:
    page = real_pages / name.removesuffix(".json")
    page = page.with_name(page.name + ".html")
    expected_title = json.loads(_expected(real_pages, name).read_text(encoding="utf-8"))["title"]
    result = _run(page, "--format", "standard")
    assert result.exit_code == 0, result.stderr
    assert f'TITLE "{expected_title}"' in result.stdout
    assert parse(result.stdout).problems == []


@pytest.mark.parametrize(
    "page",
    [
        "challenge_jsforward_tracklist-2hjnqr0t_2023.html",
        "block_ip-limited_tracklist-l3uw499_2026.html",
    ],
)
def test_anti_bot_pages_are_refused(real_pages: Path, page: str) -> None:
    result = _run(real_pages / page, "--format", "standard")
    assert result.exit_code == 1
    assert "an anti-bot page (" in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_other_pages_are_refused(real_pages: Path) -> None:
    result = _run(_expected(real_pages, "search_sven-vath-time-warp.json"), "--format", "standard")
    assert result.exit_code == 1
    assert result.stderr.endswith(": a search page, not a tracklist\n")


def test_bad_input_gives_one_line_errors(tmp_path: Path) -> None:
    missing = _run(tmp_path / "nope.json", "--format", "standard")
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"page_type": "tracklist", ')
    result = _run(broken, "--format", "standard")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {broken}: not valid JSON:")
    assert result.stderr.count("\n") == 1
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text('{"page_type": "tracklist", "title": "x"}')
    result = _run(incomplete, "--format", "standard")
    assert result.exit_code == 1
    assert "not a tracklist document: KeyError('entries')" in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text('{"page_type": "tracklist", "title": "x", "entries": []}')
    assert "the tracklist has no rows" in _run(empty, "--format", "standard").stderr


def test_unknown_format_is_a_usage_error(real_pages: Path) -> None:
    result = _run(_expected(real_pages, MAX_STYLER), "--format", "nope")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr

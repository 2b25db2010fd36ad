"""``tracklists parse FILE [--url URL]`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from cli.parse import EXIT_BLOCKED

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["parse", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_prints_the_expected_document(real_pages: Path) -> None:
    name = "tracklist_l3uw499_matroda_club-space-miami_2023-08-05"
    code, out, _ = _run(str(real_pages / f"{name}.html"))
    expected = json.loads((real_pages / "expected" / f"{name}.json").read_text())
    expected.pop("notes")
    assert code == 0
    assert json.loads(out) == expected


def test_anti_bot_page_prints_its_type_and_exits_distinctly(real_pages: Path) -> None:
    code, out, err = _run(str(real_pages / "challenge_jsforward_tracklist-2hjnqr0t_2023.html"))
    assert code == EXIT_BLOCKED
    assert json.loads(out) == {"page_type": "challenge"}
    assert "anti-bot page (challenge)" in err


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = _run(str(tmp_path / "nope.html"))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"Error: cannot read {tmp_path / 'nope.html'}: No such file or directory"
    ]


def test_directory_is_unreadable(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("Error: cannot read")


def test_not_a_page_names_what_is_missing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff\x13 garbage")
    code, out, err = _run(str(junk))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines() == [
        f"Error: {junk}: unknown page: no tracklist rows, listing rows or anti-bot markers"
    ]


def test_url_option_and_stdin() -> None:
    body = json.dumps({"success": True, "data": "", "end": True}).encode()
    code, out, _ = _run(
        "-", "--url", "https://www.1001tracklists.com/ajax/get_data.php", stdin=body
    )
    assert code == 0
    assert json.loads(out) == {
        "page_type": "dj_index",
        "dj": None,
        "result_count": 0,
        "results": [],
        "has_next_page": False,
    }


def test_warnings_are_printed(tmp_path: Path) -> None:
    code, out, _ = _run(str(FIXTURES / "short_tracklist.html"))
    assert code == 0
    assert json.loads(out)["warnings"] == [
        "page counts 3 rows (#tlTab data-count) but 2 were parsed"
    ]

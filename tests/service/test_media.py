"""The media path decision: usable files under the roots, one answer for everything else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from service.media import NOT_A_MEDIA_FILE, UNUSABLE, MediaPathRefused, media_file


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A media root with ``sets/mix.wav``, a link to a folder outside and one to a file."""
    root = tmp_path / "media"
    (root / "sets").mkdir(parents=True)
    (root / "sets" / "mix.wav").write_bytes(b"RIFF")
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    (outside / "sub").mkdir()
    os.symlink(outside, root / "sets" / "etc-dir")
    os.symlink(outside / "passwd", root / "passwd-link")
    os.symlink(root / "sets" / "mix.wav", root / "inner-link.wav")
    os.symlink(root / "loop", root / "loop")
    return root


def _answer(raw: str, roots: list[Path]) -> str:
    with pytest.raises(MediaPathRefused) as refused:
        media_file(raw, roots)
    return str(refused.value)


def test_files_inside_the_root_are_found(media: Path) -> None:
    mix = (media / "sets" / "mix.wav").resolve()
    assert media_file("sets/mix.wav", [media]) == mix
    assert media_file(str(media / "sets" / "mix.wav"), [media]) == mix
    assert media_file("./sets//mix.wav", [media]) == mix
    assert media_file("inner-link.wav", [media]) == mix  # a link that stays inside is fine


def test_the_root_may_be_named_through_a_link(media: Path, tmp_path: Path) -> None:
    os.symlink(media, tmp_path / "alias")
    mix = (media / "sets" / "mix.wav").resolve()
    assert media_file(str(tmp_path / "alias" / "sets" / "mix.wav"), [tmp_path / "alias"]) == mix
    assert media_file(str(media / "sets" / "mix.wav"), [tmp_path / "alias"]) == mix


@pytest.mark.parametrize(
    "raw",
    [
        "sets/etc-dir/passwd",  # exists, through a linked folder leading out
        "sets/etc-dir/no-such-file",  # missing, through the same folder
        "sets/etc-dir/sub",  # a folder outside
        "sets/etc-dir",
        "passwd-link",
        "sets/missing.wav",
        "sets",  # a folder inside
        "loop",
        "../etc/passwd",
        "sets/../sets/mix.wav",
        "/etc/passwd",
        "/no/such/file",
        "x" * 300,  # a name too long for the file system
    ],
)
def test_everything_else_gets_one_answer_without_a_path(media: Path, raw: str) -> None:
    answer = _answer(raw, [media])
    assert answer == NOT_A_MEDIA_FILE
    assert "/" not in answer


@pytest.mark.parametrize("raw", ["", "sets/\x00mix.wav", "sets/\ud800.wav", "a/" * 2049])
def test_text_that_is_no_path(media: Path, raw: str) -> None:
    assert _answer(raw, [media]) == UNUSABLE


def test_a_relative_root_and_the_second_root(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "cue"
    other.mkdir()
    (other / "ours.cue").write_text("REM")
    monkeypatch.chdir(tmp_path)
    assert media_file(str(other / "ours.cue"), [Path("media"), other]) == other / "ours.cue"
    assert media_file("sets/mix.wav", [Path("media"), other]) == media / "sets" / "mix.wav"
    assert media_file("ours.cue", [Path("media"), other]) == other / "ours.cue"
    assert _answer(str(other / "ours.cue"), [Path("media")]) == NOT_A_MEDIA_FILE

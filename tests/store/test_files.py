"""Stored files are written whole and read back only from inside their folder."""

from __future__ import annotations

from pathlib import Path

from store.files import read_stored, write_atomically


def test_a_written_file_reads_back(tmp_path: Path) -> None:
    folder = tmp_path / "storage"
    written = write_atomically(folder, "batch-1.zip", b"PK\x05\x06" + bytes(18))
    assert read_stored(folder, str(written)) == b"PK\x05\x06" + bytes(18)
    assert [path.name for path in folder.iterdir()] == ["batch-1.zip"]  # no temporary left


def test_nothing_outside_the_folder_is_read(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "storage", tmp_path / "elsewhere"
    secret = write_atomically(elsewhere, "secret.cue", b"not ours")
    (folder / "link.cue").parent.mkdir(parents=True)
    (folder / "link.cue").symlink_to(secret)
    assert read_stored(folder, str(secret)) is None  # a row from when the folder was elsewhere
    assert read_stored(folder, str(folder / "link.cue")) is None  # a link leading out
    assert read_stored(folder, str(folder / ".." / "elsewhere" / "secret.cue")) is None
    assert read_stored(folder, str(folder / "gone.zip")) is None
    assert read_stored(folder, str(folder)) is None  # a folder is not a file
    assert read_stored(folder, None) is None

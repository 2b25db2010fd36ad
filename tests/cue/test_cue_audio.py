"""Audio validation with mutagen, on small real files made by sox and ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest
from cue_support import evenly, silent_audio, silent_flac, sparse_wav

from cue import AudioError, Options, check_audio, export, read_audio


@pytest.mark.parametrize(
    ("name", "audio_format", "file_type"),
    [
        ("set.mp3", "MP3", "MP3"),
        ("set.m4a", "MP4", "WAVE"),
        ("set.ogg", "OggVorbis", "WAVE"),
        ("set.opus", "OggOpus", "WAVE"),
        ("set.aiff", "AIFF", "AIFF"),
    ],
)
def test_reads_format_and_duration(
    tmp_path: Path, name: str, audio_format: str, file_type: str
) -> None:
    info = read_audio(silent_audio(tmp_path / name, 12, rate=48000))
    assert (info.name, info.format, info.cue_file_type) == (name, audio_format, file_type)
    assert abs(info.duration_ms - 12_000) < 150  # encoder padding


def test_reads_flac_and_sparse_wav(tmp_path: Path) -> None:
    flac = read_audio(silent_flac(tmp_path / "set.flac", 3))
    assert (flac.format, flac.duration_ms, flac.sample_rate, flac.cue_file_type) == (
        "FLAC",
        3000,
        44100,
        "WAVE",
    )
    wav = read_audio(sparse_wav(tmp_path / "set.wav", 7200))
    assert (wav.format, wav.duration_ms) == ("WAVE", 7_200_000)


def test_a_sheet_made_for_the_file_fits_it(tmp_path: Path) -> None:
    audio = read_audio(silent_flac(tmp_path / "set.flac", 40))
    options = Options(audio_name=str(tmp_path / "set.flac"), duration_ms=audio.duration_ms)
    sheet = export(evenly(3, 10), "standard", options).sheets[0]
    assert check_audio(sheet, audio) == []


def test_last_cue_past_the_end_is_an_error(tmp_path: Path) -> None:
    audio = read_audio(silent_flac(tmp_path / "set.flac", 15))
    sheet = export(evenly(3, 10), "standard", Options(audio_name="set.flac")).sheets[0]
    assert [str(problem) for problem in check_audio(sheet, audio)] == [
        "error: track 3 starts at 0:20, after the end (0:15)"
    ]


def test_last_cue_just_before_the_end_is_a_warning(tmp_path: Path) -> None:
    audio = read_audio(silent_flac(tmp_path / "set.flac", 20.5))
    sheet = export(evenly(3, 10), "standard", Options(audio_name="set.flac")).sheets[0]
    assert [problem.severity for problem in check_audio(sheet, audio)] == ["warning"]


def test_file_type_and_name_must_match(tmp_path: Path) -> None:
    audio = read_audio(silent_audio(tmp_path / "set.mp3", 40, rate=44100))
    sheet = export(evenly(3, 10), "standard", Options(audio_name="other.flac")).sheets[0]
    assert [str(problem) for problem in check_audio(sheet, audio)] == [
        "warning: FILE names 'other.flac' but the audio is 'set.mp3'",
        "error: FILE type WAVE but MP3 audio needs MP3",
    ]


def test_an_extension_that_lies_is_reported(tmp_path: Path) -> None:
    flac = silent_flac(tmp_path / "real.flac", 40)
    liar = flac.rename(tmp_path / "set.mp3")
    audio = read_audio(liar)
    sheet = export(evenly(3, 10), "standard", Options(audio_name="set.mp3")).sheets[0]
    messages = [str(problem) for problem in check_audio(sheet, audio)]
    assert "warning: 'set.mp3' holds FLAC audio: its extension says otherwise" in messages
    assert "error: FILE type MP3 but FLAC audio needs WAVE" in messages


def test_drift_against_the_expected_length(tmp_path: Path) -> None:
    audio = read_audio(silent_flac(tmp_path / "set.flac", 40))
    sheet = export(evenly(3, 10), "standard", Options(audio_name="set.flac")).sheets[0]
    assert check_audio(sheet, audio, expected_duration_ms=41_000) == []
    assert [str(problem) for problem in check_audio(sheet, audio, expected_duration_ms=45_000)] == [
        "warning: audio is 5.0 s shorter than the tracklist's recording: cues may be shifted"
    ]


def test_sample_rates_without_whole_frames_are_reported(tmp_path: Path) -> None:
    audio = read_audio(silent_audio(tmp_path / "set.ogg", 40, rate=32000))
    sheet = export(evenly(3, 10), "standard", Options(audio_name="set.ogg")).sheets[0]
    assert [str(problem) for problem in check_audio(sheet, audio)] == [
        "warning: at 32000 Hz a CUE frame is not a whole number of samples: "
        "split points are rounded to the nearest sample"
    ]


def test_split_sheets_are_checked_per_part(tmp_path: Path) -> None:
    audio = read_audio(silent_flac(tmp_path / "set.flac", 1))
    sheet = export(evenly(3, 3000), "standard", Options(long_set="split")).sheets[0]
    assert [problem.severity for problem in check_audio(sheet, audio)] == ["warning"]


def test_unreadable_and_non_audio_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cannot read audio"):
        read_audio(tmp_path / "missing.flac")
    text = tmp_path / "notes.flac"
    text.write_text("not audio")
    with pytest.raises(AudioError, match="not an audio file mutagen recognises"):
        read_audio(text)

"""Constants of the CUE format, the readers we target and our own defaults.

Every number that a rule in the library depends on lives here, with the reason it has
the value it has, so a reader of the rules never meets a bare literal.
"""

from __future__ import annotations

from typing import Final

# Red Book audio: a CUE time is minutes:seconds:frames at 75 frames per second.
FRAMES_PER_SECOND: Final = 75
MS_PER_SECOND: Final = 1000
SECONDS_PER_MINUTE: Final = 60
FRAMES_PER_MINUTE: Final = FRAMES_PER_SECOND * SECONDS_PER_MINUTE

# Track numbers are two digits (01-99) in the CDRWIN grammar; libcue merges the tail.
MAX_TRACKS: Final = 99
# The minutes field: cdrdao and newer libcue reject 100 and above (metaflac, shnsplit accept).
MAX_MINUTES: Final = 99
# Longest number the parser reads (track and index numbers, time fields): nine digits hold
# any real sheet's values many times over, and longer runs of digits are an attack on
# int() (Python refuses to convert more than 4300 digits), not a cue sheet.
MAX_NUMBER_DIGITS: Final = 9
# Largest INDEX a strict reader accepts: 99:59:74.
MAX_STRICT_FRAMES: Final = (MAX_MINUTES + 1) * FRAMES_PER_MINUTE - 1
# CD-TEXT packs hold at most 80 bytes per string; cdrdao counts UTF-8 bytes.
CD_TEXT_MAX_BYTES: Final = 80
# Kodi's CueDocument reads lines into a 1023-byte buffer, and libcue cuts strings at 1023
# bytes: every variant keeps its lines within that.
MAX_LINE_BYTES: Final = 1023
# Kodi splits artist and genre strings on its musicItemSeparator, " / " by default.
KODI_SEPARATOR: Final = " / "

# FILE types of the CDRWIN grammar, chosen by the audio file's extension. FLAC, WavPack,
# Ogg and Opus are declared WAVE by convention (foobar2000, EAC, metaflac all do).
FILE_TYPES: Final[dict[str, str]] = {
    ".wav": "WAVE",
    ".flac": "WAVE",
    ".wv": "WAVE",
    ".ape": "WAVE",
    ".ogg": "WAVE",
    ".oga": "WAVE",
    ".opus": "WAVE",
    ".m4a": "WAVE",
    ".aac": "WAVE",
    ".mp3": "MP3",
    ".aif": "AIFF",
    ".aiff": "AIFF",
    ".bin": "BINARY",
}
KNOWN_FILE_TYPES: Final = frozenset({"WAVE", "MP3", "AIFF", "BINARY", "MOTOROLA"})
# When the caller names no audio file, the sheet still needs a FILE line.
DEFAULT_AUDIO_NAME: Final = "mix.wav"

# Joining several DJs / genres in a single CUE string.
DJ_SEPARATOR: Final = " & "
GENRE_SEPARATOR: Final = ", "
# How merged rows appear in the title of the track they were merged into.
WITH_PREFIX: Final = " w/ "
FOLD_PREFIX: Final = " / "

# "estimate" with nothing after a gap to interpolate towards spaces tracks this far apart,
# a typical length of a track in a DJ mix.
FALLBACK_TRACK_MS: Final = 4 * 60 * MS_PER_SECOND

# YouTube turns a description into chapters only when the first stamp is 0:00, there are
# at least three stamps, they ascend, and each chapter lasts at least ten seconds.
YOUTUBE_MIN_CHAPTERS: Final = 3
YOUTUBE_MIN_CHAPTER_MS: Final = 10 * MS_PER_SECOND

# Podcasting 2.0 JSON chapters: the spec's version string.
PODCAST_CHAPTERS_VERSION: Final = "1.2.0"

# Traktor shows eight hot-cue pads; later cues are stored as plain (unassigned) cues.
TRAKTOR_HOTCUES: Final = 8
# Traktor's CUE_V2 TYPE for a plain cue point; rekordbox's POSITION_MARK Type for a cue.
TRAKTOR_CUE_TYPE: Final = 0
REKORDBOX_CUE_TYPE: Final = 0
# rekordbox: Num -1 is a memory cue (shown on CDJs without a laptop); 0-7 are hot cues A-H.
REKORDBOX_MEMORY_CUE: Final = -1

# Audio validation: a sheet's last cue must lie this far inside the audio to be a track,
# and a set whose audio differs from the tracklist's own length by more is reported.
MIN_LAST_TRACK_MS: Final = 1 * MS_PER_SECOND
DRIFT_TOLERANCE_MS: Final = 2 * MS_PER_SECOND

# include_pregap: INDEX 00 this long before each track's INDEX 01 (the mix-in).
PREGAP_MS: Final = 2 * MS_PER_SECOND

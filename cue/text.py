"""Making free text safe for the formats: one line, CUE quoting, ASCII, byte limits."""

from __future__ import annotations

import unicodedata

# Letters NFKD does not decompose into ASCII, and typography CD displays cannot show.
_ASCII_FALLBACK = str.maketrans(
    {
        "ß": "ss",
        "Ø": "O",
        "ø": "o",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "Th",
        "þ": "th",
        "‘": "'",
        "’": "'",
        "“": "'",
        "”": "'",
        "–": "-",
        "—": "-",
        "…": "...",
    }
)
ELLIPSIS = "…"
ASCII_ELLIPSIS = "..."


def one_line(value: str) -> str:
    """``value`` on one line: control characters (a newline would end a command, a line or
    a cue in every format here) become spaces, runs of whitespace one space."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in value)
    return " ".join(cleaned.split())


def cue_safe(value: str) -> str:
    """``value`` fit for a quoted CUE string, on one line.

    CUE has no escape: a ``"`` inside a value ends it early in libcue, cdrdao and mpv, so
    we write ``'`` instead. Yet libcue reads ``\\"`` as an escaped quote: a value ending in
    a backslash would swallow its closing quote and the lines after it, so backslashes
    become ``/``.
    """
    return one_line(value).replace('"', "'").replace("\\", "/")


def to_ascii(value: str) -> str:
    """``value`` in printable ASCII: accents dropped (Väth -> Vath), the rest ``?``."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_ASCII_FALLBACK))
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if " " <= ch <= "~" else "?" for ch in letters)


def truncate_bytes(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` UTF-8 bytes on a character boundary, with an
    ellipsis when anything was cut (``...`` for ASCII text, so it stays ASCII)."""
    if len(value.encode("utf-8")) <= limit:
        return value
    ellipsis = ASCII_ELLIPSIS if value.isascii() else ELLIPSIS
    room = limit - len(ellipsis.encode("utf-8"))
    cut = value.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut.rstrip() + ellipsis

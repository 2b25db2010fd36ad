"""Track identity: one catalogue key for the same track however a tracklist spells it.

:func:`track_key` applies these rules, in order, to artist, title and version separately:

1. Unicode is normalised (NFKC) and case-folded; accents are dropped (``Väth`` = ``Vath``,
   ``Clüb`` = ``Club``), and letters without a decomposition are spelled out
   (``ø`` -> ``o``, ``æ`` -> ``ae``, ``ß`` -> ``ss``, ``ł`` -> ``l``, ``đ`` -> ``d``).
2. Apostrophes and quotes vanish (``Let Em' Know`` = ``Let Em Know``, ``"XY"`` = ``XY``).
3. ``[...]`` and ``{...}`` count as ``(...)``, and there is no space just inside brackets.
4. ``&``, ``and`` and ``+`` are one joiner ``&`` (in an artist credit ``,`` is one too);
   ``feat.``, ``feat``, ``featuring``, ``ft.`` and ``ft`` are one marker ``ft``;
   ``vs.``/``vs``/``versus`` are ``vs``.
5. Any other punctuation is a word break; runs of spaces are one space.
6. In the artist credit, the names on each side of ``ft`` are sorted, so
   ``A & B ft. C`` = ``B and A feat. C``; the order of ``vs`` sides is kept.
7. A version of ``Original Mix``/``Original``/none is no version: it is the same recording.

The key is ``artist|title|version`` (version empty when there is none). ``ID`` stays ``id``:
an unknown track is still a distinct (unknown) key, and callers decide whether to catalogue it.
"""

from __future__ import annotations

import re
import unicodedata

_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)
_QUOTES = re.compile(r"[\"'`´‘’‚‛“”„‟′″]")
_OPEN = re.compile(r"[\[{]")
_CLOSE = re.compile(r"[\]}]")
_FEAT = re.compile(r"(?<![\w])(?:featuring|feat\.?|ft\.?)(?![\w])")
_VERSUS = re.compile(r"(?<![\w])(?:versus|vs\.?)(?![\w])")
_JOINER = re.compile(r"(?<![\w])and(?![\w])|[+&]")
_OTHER_PUNCTUATION = re.compile(r"[^\w\s&()]")
_SPACES = re.compile(r"\s+")
_INSIDE_OPEN = re.compile(r"\(\s+")
_INSIDE_CLOSE = re.compile(r"\s+\)")
_ORIGINAL = frozenset({"", "original", "original mix"})


def normalize(text: str) -> str:
    """Rules 1-5 on one field: the comparable spelling of a name or title."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    text = _QUOTES.sub("", text)
    text = _CLOSE.sub(")", _OPEN.sub("(", text))
    text = _FEAT.sub(" ft ", text)
    text = _VERSUS.sub(" vs ", text)
    text = _JOINER.sub(" & ", text)
    text = _OTHER_PUNCTUATION.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return _INSIDE_CLOSE.sub(")", _INSIDE_OPEN.sub("(", text))


def artist_key(artist: str) -> str:
    """Rule 6: a normalised artist credit with the names of each ``ft`` side sorted."""
    sides = []
    for side in normalize(artist.replace(",", " & ")).split(" vs "):
        groups = [
            " & ".join(sorted(name.strip() for name in group.split("&") if name.strip()))
            for group in side.split(" ft ")
        ]
        sides.append(" ft ".join(group for group in groups if group))
    return " vs ".join(side for side in sides if side)


def track_key(artist: str, title: str, version: str | None) -> str:
    """The catalogue key of a track (see the module docstring for the rules)."""
    version_key = normalize(version or "")
    if version_key in _ORIGINAL:
        version_key = ""
    return f"{artist_key(artist)}|{normalize(title)}|{version_key}"

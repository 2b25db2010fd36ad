"""Track search by words on PostgreSQL (migration 0008): typo-tolerant and index-sized.

A query such as "revolution continus" is split into words. Each word is looked up in the
catalogue's vocabulary (``track_words``, tens of thousands of rows): its spellings are the
words within trigram similarity of it, or containing it. The catalogue tracks having a
spelling of every query word come from one GIN index scan (``ix_tracks_words``), and the
best of them by similarity to the whole query are the candidates.

Whole-name trigram matching over the catalogue (:func:`api.search_query.candidates`) took
20-100 ms on a million entries, and seconds for some queries; this takes a few. It answers
"no candidates" when a query word of three letters or more resembles nothing in the
vocabulary, or no track has a spelling of every word; the caller then falls back to
whole-name matching, within a time limit.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnClause, Text, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from store.models import Track

# What tracklists_words() splits names at (migration 0008); keep the two in step.
WORD_BREAK = re.compile(r"[\s&()]+")
MAX_QUERY_WORDS = 8
# Per query word: enough that a four-letter word with a letter dropped ("noa") still finds
# itself ("noxa") among the three-letter words that resemble it more.
MAX_SPELLINGS = 50
# Word to word, one wrong letter weighs more than in a whole name: "biok" ~ "bixok" is 0.375,
# a letter dropped from a four-letter word ("pdy" ~ "pidy") two shared trigrams of seven,
# 0.29. Requiring a spelling of every query word keeps the result precise.
WORD_SIMILARITY_THRESHOLD = 0.28
# Tracks having every word, scored by similarity to keep the best (scoring is cheap for this
# many rows; a common word alone can match thousands of tracks).
MAX_WORD_MATCHES = 500
# Words shorter than a trigram: a prefix match rather than similarity.
_SHORT = 3

_SPELLINGS = text(
    """
    SELECT query.position, spelling.word
    FROM unnest(CAST(:words AS text[]), CAST(:patterns AS text[]))
        WITH ORDINALITY AS query(word, pattern, position)
    CROSS JOIN LATERAL (
        SELECT known.word
        FROM track_words known
        WHERE known.word LIKE query.pattern ESCAPE '\\'
            OR (length(query.word) >= :short AND known.word %>> query.word)
        GROUP BY known.word
        ORDER BY similarity(known.word, query.word) DESC, known.word
        LIMIT :max_spellings
    ) AS spelling
    """
)
# Exactly the expression of the ix_tracks_words index, so that the planner uses it.
_WORDS: ColumnClause[Any] = literal_column(
    "tracklists_words(tracks.artist_normalized || ' ' || tracks.title_normalized)"
)


def query_words(folded_query: str) -> list[str]:
    """The distinct words of a folded query, in order (at most :data:`MAX_QUERY_WORDS`)."""
    words = dict.fromkeys(word for word in WORD_BREAK.split(folded_query) if word)
    return list(words)[:MAX_QUERY_WORDS]


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # A short word as a prefix ("dj" → "djs"); a longer one anywhere in a word.
    return f"{escaped}%" if len(word) < _SHORT else f"%{escaped}%"


def spellings(session: Session, words: list[str]) -> list[list[str]]:
    """For each word, the catalogue's words that may be meant by it, closest first.

    ``%>>`` is strict word similarity, which for one word against another is their
    similarity; the connection sets its threshold to :data:`WORD_SIMILARITY_THRESHOLD`
    (:func:`api.search_query.prepare_search`), leaving ``%`` at the whole-name threshold.
    """
    rows = session.execute(
        _SPELLINGS,
        {
            "words": words,
            "patterns": [_pattern(word) for word in words],
            "short": _SHORT,
            "max_spellings": MAX_SPELLINGS,
        },
    ).all()
    found: list[list[str]] = [[] for _ in words]
    for position, word in rows:
        found[position - 1].append(word)
    return found


def track_candidates(
    session: Session, folded_query: str, limit: int
) -> list[tuple[int, str, float]]:
    """``(track id, "Artist - Title", score)`` of the tracks best matching the query's words.

    Empty when the query has no words, or one of three letters or more resembles no word of
    the catalogue.
    """
    words = query_words(folded_query)
    if not words:
        return []
    # A word of one or two letters that starts no word of the catalogue is a typo too short
    # to place ("jw"): the other words decide. A longer word that resembles nothing does not.
    per_word = [
        found
        for word, found in zip(words, spellings(session, words), strict=True)
        if found or len(word) >= _SHORT
    ]
    if not per_word or not all(per_word):
        return []
    matched = (
        select(
            Track.id,
            Track.artist,
            Track.title,
            Track.artist_normalized,
            Track.title_normalized,
        )
        .where(
            *(
                _WORDS.op("&&")(bindparam(f"spellings_{index}", found, type_=ARRAY(Text)))
                for index, found in enumerate(per_word)
            )
        )
        .limit(MAX_WORD_MATCHES)
        .subquery("matched")
    )
    whole = matched.c.artist_normalized + " " + matched.c.title_normalized
    score = func.greatest(
        func.similarity(matched.c.artist_normalized, folded_query),
        func.similarity(matched.c.title_normalized, folded_query),
        func.similarity(whole, folded_query),
    ).label("score")
    name = (matched.c.artist + " - " + matched.c.title).label("name")
    rows = session.execute(
        select(matched.c.id, name, score).order_by(score.desc(), name).limit(limit)
    ).all()
    return [(int(row[0]), str(row[1]), float(row[2])) for row in rows]

"""Track search by words on PostgreSQL (migration 0008): typo-tolerant and index-sized.

A query such as "revolution continus" is split into words. Each word is looked up in the
catalogue's vocabulary (``track_words``, tens of thousands of rows): its spellings are the
words within trigram similarity of it, or containing it. The catalogue tracks having a
spelling of every query word come from GIN index scans (``ix_tracks_words``), and the best
of them by similarity to the whole query are the candidates.

A common word has spellings in thousands of tracks, and only :data:`MAX_WORD_MATCHES` are
scored; so the tracks having a *close* spelling of every word (the word itself, a plural, a
letter off: :data:`CLOSE_SIMILARITY`) are taken first, and the remaining room goes to the
rest. Without that order, "strobe" could score a few hundred tracks with "stroke" or
"strobelight" and never reach the tracks called "Strobe".

Whole-name trigram matching over the catalogue (:func:`service.search.candidates.candidates`) took
20-100 ms on a million entries, and seconds for some queries; this takes a few. It answers
"no candidates" when a query word of three letters or more resembles nothing in the
vocabulary, or no track has a spelling of every word; the caller then falls back to
whole-name matching, within a time limit.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

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
# Tracks having every word, scored by similarity to keep the best: each costs ~6 us of
# scoring, and a common word alone can match thousands of tracks.
MAX_WORD_MATCHES = 200
# Spellings at least this similar to their query word are searched first: "strobe" ~
# "strobes" 0.67, "revolution" ~ "revolutions" 0.77, "continus" ~ "continues" 0.58, but
# "strobe" ~ "stroke" 0.4.
CLOSE_SIMILARITY = 0.5
# Words shorter than a trigram: a prefix match rather than similarity.
_SHORT = 3

_SPELLINGS = text(
    """
    SELECT query.position, spelling.word, spelling.similarity
    FROM unnest(CAST(:words AS text[]), CAST(:patterns AS text[]))
        WITH ORDINALITY AS query(word, pattern, position)
    CROSS JOIN LATERAL (
        SELECT known.word, similarity(known.word, query.word) AS similarity
        FROM track_words known
        WHERE known.word LIKE query.pattern ESCAPE '\\'
            OR (length(query.word) >= :short AND known.word %>> query.word)
        GROUP BY known.word
        ORDER BY similarity DESC, known.word
        LIMIT :max_spellings
    ) AS spelling
    """
)
# Exactly the expression of the ix_tracks_words index, so that the planner uses it.
_WORDS = "tracklists_words(tracks.artist_normalized || ' ' || tracks.title_normalized)"


def query_words(folded_query: str) -> list[str]:
    """The distinct words of a folded query, in order (at most :data:`MAX_QUERY_WORDS`)."""
    words = dict.fromkeys(word for word in WORD_BREAK.split(folded_query) if word)
    return list(words)[:MAX_QUERY_WORDS]


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # A short word as a prefix ("dj" → "djs"); a longer one anywhere in a word.
    return f"{escaped}%" if len(word) < _SHORT else f"%{escaped}%"


def spellings(session: Session, words: list[str]) -> list[list[tuple[str, float]]]:
    """For each word, the catalogue's words that may be meant by it and their similarity to it,
    closest first.

    ``%>>`` is strict word similarity, which for one word against another is their
    similarity; the connection sets its threshold to :data:`WORD_SIMILARITY_THRESHOLD`
    (:func:`service.search.candidates.prepare_search`), leaving ``%`` at the whole-name threshold.
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
    found: list[list[tuple[str, float]]] = [[] for _ in words]
    for position, word, similarity in rows:
        found[position - 1].append((word, float(similarity)))
    return found


def _close(word: str, found: list[tuple[str, float]]) -> list[str]:
    """The spellings searched first: the close ones, or all when none is close.

    A word shorter than a trigram has prefixes, not resemblances: all of them are close.
    """
    if len(word) < _SHORT:
        return [spelling for spelling, _similarity in found]
    close = [spelling for spelling, similarity in found if similarity >= CLOSE_SIMILARITY]
    return close or [spelling for spelling, _similarity in found]


# Tracks having a spelling of every query word: ``{conditions}`` is one
# ``_WORDS && CAST(:t<tier>_<word> AS text[])`` per word (the spellings are bound parameters).
_TIER = (
    "(SELECT id, artist, title, artist_normalized, title_normalized FROM tracks"
    " WHERE {conditions} LIMIT :cap)"
)
# UNION ALL under a LIMIT: the second tier is only read when the first leaves room, and a
# track found by both comes twice (hence DISTINCT).
_MATCHES = """
SELECT DISTINCT matched.id, matched.artist || ' - ' || matched.title AS name,
    greatest(
        similarity(matched.artist_normalized, :query),
        similarity(matched.title_normalized, :query),
        similarity(matched.artist_normalized || ' ' || matched.title_normalized, :query)
    ) AS score
FROM (SELECT * FROM ({tiers}) AS tiers LIMIT :cap) AS matched
ORDER BY score DESC, name
LIMIT :limit
"""


@lru_cache(maxsize=2 * MAX_QUERY_WORDS)
def _matches(words: int, tiers: int) -> TextClause:
    """The statement scoring the tracks of ``tiers`` tiers of spellings of ``words`` words.

    One text per shape, so that psycopg prepares each once.
    """
    return text(
        _MATCHES.format(
            tiers=" UNION ALL ".join(
                _TIER.format(
                    conditions=" AND ".join(
                        f"{_WORDS} && CAST(:t{tier}_{word} AS text[])" for word in range(words)
                    )
                )
                for tier in range(tiers)
            )
        )
    )


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
        (word, found)
        for word, found in zip(words, spellings(session, words), strict=True)
        if found or len(word) >= _SHORT
    ]
    if not per_word or not all(found for _word, found in per_word):
        return []
    close = [_close(word, found) for word, found in per_word]
    every = [[spelling for spelling, _similarity in found] for _word, found in per_word]
    tiers = [close] if close == every else [close, every]
    spellings_by_tier = {
        f"t{tier}_{word}": found
        for tier, per_tier in enumerate(tiers)
        for word, found in enumerate(per_tier)
    }
    rows = session.execute(
        _matches(len(per_word), len(tiers)),
        {**spellings_by_tier, "query": folded_query, "cap": MAX_WORD_MATCHES, "limit": limit},
    ).all()
    return [(int(row[0]), str(row[1]), float(row[2])) for row in rows]

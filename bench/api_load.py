"""Test data for bench/api.py: a million tracklist entries into PostgreSQL, fast.

Names are made of a vocabulary of made-up words (so trigram indexes are as selective as on
real names) plus a few real DJs and events. Rows go in with COPY; the search indexes (trigram
and track words) are dropped first and rebuilt afterwards from their own definitions
(``pg_indexes``), which is several times faster than maintaining them row by row.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

CONSONANTS, VOWELS = "bcdfghjklmnprstvwxz", "aeiouy"
VOCABULARY = 20_000  # distinct made-up words names are built from, like real name diversity
FAMOUS_DJS = ["Carl Cox", "Tiësto", "Sven Väth", "Adam Beyer", "Amelie Lens", "Nina Kraviz"]
FAMOUS_EVENTS = ["Time Warp", "Tomorrowland", "Awakenings", "Ultra Music Festival Miami"]


def _vocabulary(rng: random.Random) -> list[str]:
    def word() -> str:
        letters = [
            rng.choice(CONSONANTS if n % 2 == 0 else VOWELS) for n in range(rng.randint(3, 9))
        ]
        return "".join(letters).capitalize()

    return [word() for _ in range(VOCABULARY)]


def _name(rng: random.Random, words: list[str], count: int) -> str:
    return " ".join(rng.choice(words) for _ in range(count))


def _copy(
    cursor: psycopg.Cursor[Any], table: str, columns: str, rows: Iterator[tuple[Any, ...]]
) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(database_url: str, entries: int, seed: int = 7) -> dict[str, Any]:
    """Fill the database; returns counts and the names the searches will misspell."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    n_tracklists, n_tracks = entries // 20, entries // 2
    n_djs, n_sources = max(len(FAMOUS_DJS), entries // 100), max(len(FAMOUS_EVENTS), entries // 200)
    djs = FAMOUS_DJS + [_name(rng, words, 2) for _ in range(n_djs - len(FAMOUS_DJS))]
    sources = FAMOUS_EVENTS + [
        _name(rng, words, rng.randint(1, 3)) for _ in range(n_sources - len(FAMOUS_EVENTS))
    ]
    tracks = [(_name(rng, words, 2), _name(rng, words, rng.randint(1, 3))) for _ in range(n_tracks)]
    tracklist_ids = [uuid.uuid4() for _ in range(n_tracklists)]
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE indexname LIKE '%\\_trgm' OR indexname = 'ix_tracks_words'"
        )
        search_indexes = cursor.fetchall()
        for name, _definition in search_indexes:
            cursor.execute(f"DROP INDEX {name}")
        _copy(
            cursor, "djs", "id, slug, name", ((i + 1, f"dj{i}", name) for i, name in enumerate(djs))
        )
        _copy(
            cursor,
            "sources",
            "id, site_id, slug, name",
            ((i + 1, f"s{i}", f"event{i}", name) for i, name in enumerate(sources)),
        )
        _copy(
            cursor,
            "tracks",
            "id, track_key, artist, title, artist_normalized, title_normalized",
            (
                (i + 1, f"{a.lower()}|{t.lower()}|{i}", a, t, a.lower(), t.lower())
                for i, (a, t) in enumerate(tracks)
            ),
        )
        first = date(2010, 1, 1)
        _copy(
            cursor,
            "tracklists",
            "id, site_id, url, title, set_date, genres, track_count, status, version",
            (
                (
                    tracklist_id,
                    f"b{i}",
                    f"https://www.1001tracklists.com/tracklist/b{i}/set-{i}.html",
                    f"Set {i}",
                    first + timedelta(days=i % 5000),
                    '["Techno"]',
                    20,
                    "active",
                    1,
                )
                for i, tracklist_id in enumerate(tracklist_ids)
            ),
        )
        # Famous DJs and events get many sets each (a skewed, realistic distribution).
        _copy(
            cursor,
            "tracklist_djs",
            "tracklist_id, dj_id, position",
            (
                (t, rng.randint(1, min(60, n_djs)) if i % 10 == 0 else rng.randint(1, n_djs), 0)
                for i, t in enumerate(tracklist_ids)
            ),
        )
        _copy(
            cursor,
            "tracklist_sources",
            "tracklist_id, source_id, position",
            ((t, rng.randint(1, n_sources), 0) for t in tracklist_ids),
        )
        _copy(
            cursor,
            "tracklist_entries",
            "tracklist_id, row, position, cue_ms, played_with_previous, is_id, artist, title, "
            "mashup_parts, track_id",
            (
                (t, row, row, (row - 1) * 240_000, False, False, *tracks[track - 1], "[]", track)
                for t in tracklist_ids
                for row, track in enumerate(rng.sample(range(1, n_tracks + 1), 20), start=1)
            ),
        )
        loaded = time.perf_counter() - started
        for _index, definition in search_indexes:
            cursor.execute(definition)
        # As autovacuum would in time: statistics for the planner, GIN pending lists merged.
        cursor.execute("VACUUM ANALYZE")
    return {
        "tracklists": n_tracklists,
        "entries": n_tracklists * 20,
        "tracks": n_tracks,
        "djs": n_djs,
        "events": n_sources,
        "copy_seconds": round(loaded, 1),
        "index_seconds": round(time.perf_counter() - started - loaded, 1),
        "dj_names": djs,
        "event_names": sources,
        "track_titles": [title for _artist, title in tracks[:5000]],
        "tracklist_id": str(tracklist_ids[0]),
    }


def describe(database_url: str) -> dict[str, Any] | None:
    """What a run needs from data loaded by an earlier run, or ``None`` for an empty database."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        first = cursor.execute("SELECT id FROM tracklists ORDER BY site_id LIMIT 1").fetchone()
        if first is None:
            return None

        def names(query: str) -> list[str]:
            return [row[0] for row in cursor.execute(query).fetchall()]

        entries = cursor.execute("SELECT count(*) FROM tracklist_entries").fetchone()
        return {
            "entries": entries[0] if entries else 0,
            "dj_names": names("SELECT name FROM djs ORDER BY id"),
            "event_names": names("SELECT name FROM sources ORDER BY id"),
            "track_titles": names("SELECT title FROM tracks ORDER BY id LIMIT 5000"),
            "tracklist_id": str(first[0]),
        }


def sizes(database_url: str) -> list[str]:
    """One line per large table and search index: its size on disk."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        rows = cursor.execute(
            "SELECT c.relname, c.relkind, pg_relation_size(c.oid), "
            "pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') "
            "AND pg_relation_size(c.oid) > 32 * 1024 * 1024 ORDER BY 3 DESC"
        ).fetchall()
        total = cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
    kinds = {"r": "table", "i": "index"}
    return [f"database size {total[0] if total else '?'}"] + [
        f"  {kinds[kind]:5} {name:40} {pretty}" for name, kind, _bytes, pretty in rows
    ]

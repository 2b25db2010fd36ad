"""Benchmark: the who-played-what queries on a million tracklist entries (PostgreSQL).

Usage: ``uv run python bench/plays.py [--data bench|skewed] [--entries 1000000] [--runs 200]``

Creates a throw-away database, migrates it and loads it with COPY, then times each query of
:mod:`store.plays` as the API calls it and prints p50 / p95 / max in milliseconds. The data:

- ``bench`` (default): the project's bench data (``bench/api_load.py``, as ``bench/api.py``
  uses): 20 rows a set, tracks drawn uniformly, 60 "famous" DJs with many sets;
- ``skewed``: a heavy case: 50 rows a set, DJs and tracks drawn from Zipf-like distributions
  (exponent 0.8: the busiest DJ has ~5 % of all sets, ~50,000 rows, like the busiest DJs of
  the real site; the most played track ~2 % of all rows, far more than any real track), 5 % b2b.

Each query is asked for random arguments drawn like real traffic (tracks as entries play them,
DJs as sets credit them) plus the worst cases (the most played track, the busiest DJ and the
two busiest DJs). The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere, without installing

from api_load import load as load_bench_data  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from store import plays  # noqa: E402
from store.db import make_engine, make_session_factory  # noqa: E402
from store.migrate import upgrade  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROWS_PER_SET = 50


def _weights(count: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights: item k is drawn with probability ~ 1 / k^exponent."""
    return list(itertools.accumulate(1 / (k**exponent) for k in range(1, count + 1)))


def load_skewed(engine: Engine, entries: int, seed: int) -> dict[str, Any]:
    """COPY Zipf-distributed DJs, tracks, sets, links and entries; returns the counts."""
    rng = random.Random(seed)
    sets = entries // ROWS_PER_SET
    dj_count, track_count = max(10, sets // 10), max(100, entries // 5)
    dj_weights, track_weights = _weights(dj_count, 0.8), _weights(track_count, 0.8)
    set_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(sets)]
    dj_of_set = rng.choices(range(1, dj_count + 1), cum_weights=dj_weights, k=sets)
    first_day = date(2010, 1, 1)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def copy(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as writer:  # type: ignore[attr-defined]
                for row in rows:
                    writer.write_row(row)

        copy("djs", "id, slug, name", ((i, f"dj-{i}", f"DJ {i}") for i in range(1, dj_count + 1)))
        copy(
            "tracks",
            "id, track_key, artist, title, artist_normalized, title_normalized",
            (
                (i, f"k{i}", f"Artist {i}", f"Title {i}", f"artist {i}", f"title {i}")
                for i in range(1, track_count + 1)
            ),
        )
        copy(
            "tracklists",
            "id, site_id, url, title, set_date, genres, track_count, status, version",
            (
                (
                    set_id,
                    f"s{n}",
                    f"https://www.1001tracklists.com/tracklist/s{n}/set.html",
                    f"Set {n}",
                    first_day + timedelta(days=rng.randrange(5000)),
                    "[]",
                    ROWS_PER_SET,
                    "active",
                    1,
                )
                for n, set_id in enumerate(set_ids)
            ),
        )

        def links() -> Iterator[tuple[Any, ...]]:
            for set_id, dj in zip(set_ids, dj_of_set, strict=True):
                yield set_id, dj, 0
                if rng.random() < 0.05:  # b2b
                    other = rng.randrange(1, dj_count + 1)
                    if other != dj:
                        yield set_id, other, 1

        copy("tracklist_djs", "tracklist_id, dj_id, position", links())
        drawn = rng.choices(range(1, track_count + 1), cum_weights=track_weights, k=entries)

        def rows() -> Iterator[tuple[Any, ...]]:
            for index, track in enumerate(drawn):
                set_id, row = set_ids[index // ROWS_PER_SET], index % ROWS_PER_SET + 1
                yield set_id, row, row, row * 180_000, False, False, "A", "T", "[]", track

        copy(
            "tracklist_entries",
            "tracklist_id, row, position, cue_ms, played_with_previous, is_id, artist, title, "
            "mashup_parts, track_id",
            rows(),
        )
        raw.commit()
    finally:
        raw.close()
    return {"sets": sets, "djs": dj_count, "tracks": track_count}


def timed(runs: int, arguments: Callable[[], Any], query: Callable[[Any], object]) -> list[float]:
    """Milliseconds of ``query`` over ``runs`` argument draws."""
    times = []
    for _ in range(runs):
        argument = arguments()
        start = time.perf_counter()
        query(argument)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("bench", "skewed"), default="bench")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its name)")
    args = parser.parse_args()

    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    name = f"tracklists_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(args.admin_url).set(database=name))
    try:
        upgrade(engine)
        started = time.perf_counter()
        if args.data == "bench":
            url = engine.url.render_as_string(hide_password=False)
            loaded = load_bench_data(url, args.entries, args.seed)
            facts = {key: loaded[key] for key in ("tracklists", "entries", "tracks", "djs")}
        else:
            facts = load_skewed(engine, args.entries, args.seed)
        # A live database is vacuumed by autovacuum: index-only scans need the visibility map.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        elapsed = time.perf_counter() - started
        print(f"{args.data} data: {json.dumps(facts)} loaded in {elapsed:.0f}s")
        rng = random.Random(args.seed)
        sessions = make_session_factory(engine)
        session = sessions()
        with engine.connect() as connection:
            # Draw arguments the way traffic would: entries' tracks, sets' DJs.
            popular_tracks = (
                connection.execute(
                    text("SELECT track_id FROM tracklist_entries TABLESAMPLE SYSTEM (1) LIMIT 5000")
                )
                .scalars()
                .all()
            )
            busy_djs = (
                connection.execute(
                    text(
                        "SELECT d.slug FROM tracklist_djs td JOIN djs d ON d.id = td.dj_id "
                        "ORDER BY random() LIMIT 5000"
                    )
                )
                .scalars()
                .all()
            )
            top_track = connection.execute(
                text(
                    "SELECT track_id FROM tracklist_entries GROUP BY track_id "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one()
            top_djs = (
                connection.execute(
                    text(
                        "SELECT d.slug FROM tracklist_djs td JOIN djs d ON d.id = td.dj_id "
                        "GROUP BY d.slug ORDER BY count(*) DESC LIMIT 2"
                    )
                )
                .scalars()
                .all()
            )
        any_track = lambda: rng.choice(popular_tracks)  # noqa: E731
        any_dj = lambda: rng.choice(busy_djs)  # noqa: E731
        cases: dict[str, tuple[Callable[[], Any], Callable[[Any], object]]] = {
            "track plays (page of 20)": (
                any_track,
                lambda t: plays.track_plays(session, t, limit=20, offset=0),
            ),
            "  worst: most played track": (
                lambda: top_track,
                lambda t: plays.track_plays(session, t, limit=20, offset=0),
            ),
            "dj top tracks (20)": (any_dj, lambda d: plays.dj_top_tracks(session, d, limit=20)),
            "  worst: busiest dj": (
                lambda: top_djs[0],
                lambda d: plays.dj_top_tracks(session, d, limit=20),
            ),
            "shared tracks (page of 20)": (
                lambda: (any_dj(), any_dj()),
                lambda p: plays.shared_tracks(session, p[0], p[1], limit=20, offset=0),
            ),
            "  worst: two busiest djs": (
                lambda: tuple(top_djs),
                lambda p: plays.shared_tracks(session, p[0], p[1], limit=20, offset=0),
            ),
        }
        print(f"{'query':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, (draw, query) in cases.items():
            query(draw())  # warm the cache and the plan
            times = sorted(timed(args.runs, draw, query))
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{label:<30} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")
        session.close()
    finally:
        engine.dispose()
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

"""Crawl throughput and memory, against a ceiling measured in the same run.

1. Serves N distinct tracklists (copies of the real pages) from the local replay site and
   crawls them with ``scrapy crawl tracklist`` through every pipeline into PostgreSQL, with
   politeness delays off (the local site is ours) but every middleware still on.
2. Runs ``scrapy bench`` (Scrapy's own local-server crawl that parses nothing and stores
   nothing): the ceiling for this machine right now.
3. Prints both pages/s and their ratio (goal >= 0.5), and, with ``--rss-pages``, the
   crawler's RSS growth over that many pages (goal <= 20 MB).

Usage: ``uv run python bench/crawl.py [--pages 2000] [--rss-pages 10000]``. Needs PostgreSQL
and Redis on 127.0.0.1 (as the tests do) and ``../shared/real-pages``.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from crawler.localsite import LocalSite, robots_txt
from crawler.localsite.synthetic import add_distinct_tracklists
from store.db import make_engine
from store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REAL_PAGES = ROOT.parent / "shared" / "real-pages"
ADMIN_URL = os.environ.get(
    "TRACKLIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_RATE = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


def _stats(stderr: str) -> dict[str, Any]:
    """The stats dict Scrapy dumps at the end of a crawl."""
    start = stderr.rfind("Dumping Scrapy stats:")
    if start < 0:
        raise RuntimeError("no stats in the crawl's output:\n" + stderr[-2000:])
    block = stderr[stderr.index("{", start) : stderr.index("}", start) + 1]
    # datetime values are not literals; they are not needed here.
    block = re.sub(r"datetime\.datetime\([^)]*\)", "None", block)
    value = ast.literal_eval(block)
    assert isinstance(value, dict)
    return value


def _sample_rss(process: subprocess.Popen[str], samples: list[int], interval: float) -> None:
    """The crawl's resident memory from /proc, every ``interval`` s while it runs.

    Scrapy's own memusage stats read ru_maxrss, which Linux carries across exec from the
    parent (this benchmark holds every page in memory), so they cannot show the crawler's.
    """
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append(int(line.split()[1]) * 1024)
        except OSError:
            return
        time.sleep(interval)


def our_crawl(pages: int, database_url: str, parse_processes: int = 1) -> dict[str, Any]:
    """Crawl ``pages`` synthetic tracklists into ``database_url``; return Scrapy's stats."""
    bodies = [p.read_bytes() for p in sorted(REAL_PAGES.glob("tracklist_*.html"))]
    with LocalSite(robots_txt=robots_txt(crawl_delay=None)) as site:
        urls = add_distinct_tracklists(site.store, bodies, pages)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(urls))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
        env.update(
            TRACKLIST_SCRAPING_BASE_URL=site.base_url,
            TRACKLIST_DATABASE_URL=database_url,
            TRACKLIST_REDIS_URL=REDIS_URL,
            TRACKLIST_SCRAPING_RATE_LIMIT_DELAY="0",
            TRACKLIST_LOG_LEVEL="INFO",
            TRACKLIST_LOG_FORMAT="text",  # the stats dump below is read as text
        )
        settings = {
            "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS": "16",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
            "TRACKLIST_BUDGET_KEY_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:",
            "LOGSTATS_INTERVAL": "5",
            "TRACKLIST_PARSE_PROCESSES": str(parse_processes),
        }
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "tracklist",
            "-a",
            f"urls_file={handle.name}",
        ]
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        samples: list[int] = []
        sampler = threading.Thread(target=_sample_rss, args=(process, samples, 0.5), daemon=True)
        sampler.start()
        _, stderr = process.communicate()
        sampler.join()
        os.unlink(handle.name)
    if process.returncode != 0:
        raise RuntimeError("crawl failed:\n" + stderr[-3000:])
    stats = _stats(stderr)
    stats["rss_samples"] = samples
    stored = (
        stats.get("store/created", 0)
        + stats.get("store/updated", 0)
        + stats.get("store/unchanged", 0)
    )
    if stored != pages:
        raise RuntimeError(f"stored {stored} of {pages} pages: {stats}")
    return stats


def scrapy_bench(seconds: int) -> float:
    """Pages/s of ``scrapy bench`` (median of its per-interval rates after warm-up)."""
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"],
        cwd=tempfile.gettempdir(),  # outside the project: Scrapy's defaults, not ours
        capture_output=True,
        text=True,
        check=False,
    )
    rates = [int(m.group(2)) / 60 for m in _RATE.finditer(result.stderr)]
    if len(rates) < 3:
        raise RuntimeError("scrapy bench printed too few rates:\n" + result.stderr[-2000:])
    return statistics.median(rates[1:])  # the first interval includes start-up


def _recreate(admin: Any, name: str, database_url: str) -> None:
    """An empty, migrated database again (each round stores new tracklists)."""
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rss-pages", type=int, default=0, help="also measure RSS over N pages")
    parser.add_argument("--bench-seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--parse-processes", type=int, default=1, help="0 = parse in a thread")
    args = parser.parse_args()
    if not REAL_PAGES.is_dir():
        sys.exit(f"needs the real pages at {REAL_PAGES}")

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tracklists_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        # Interleaved rounds, medians: the machine's load moves between the two measurements.
        ours_rates, ceilings = [], []
        for number in range(args.rounds):
            stats = our_crawl(args.pages, database_url, args.parse_processes)
            ours_rates.append(args.pages / stats["elapsed_time_seconds"])
            ceilings.append(scrapy_bench(args.bench_seconds))
            print(
                f"round {number + 1}: ours {ours_rates[-1]:.1f} pages/s, "
                f"scrapy bench {ceilings[-1]:.1f} pages/s"
            )
            _recreate(admin, name, database_url)
        ours, ceiling = statistics.median(ours_rates), statistics.median(ceilings)
        print(
            f"our crawl ({args.pages} pages through every pipeline into PostgreSQL): "
            f"{ours:.1f} pages/s (median of {args.rounds})"
        )
        print(f"scrapy bench (same machine, same run): {ceiling:.1f} pages/s")
        print(f"ratio ours / scrapy bench: {ours / ceiling:.2f} (goal >= 0.50)")
        if args.rss_pages:
            samples = our_crawl(args.rss_pages, database_url)["rss_samples"]
            # After start-up (first tenth of the run) against the end (last tenth).
            tenth = max(1, len(samples) // 10)
            early = statistics.median(samples[tenth : 2 * tenth]) / 2**20
            late = max(samples[-tenth:]) / 2**20
            print(
                f"RSS over {args.rss_pages} pages: {early:.0f} MB after start-up, "
                f"{late:.0f} MB at the end, growth {late - early:.1f} MB (goal <= 20)"
            )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

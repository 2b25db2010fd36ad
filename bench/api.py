"""API throughput and latency under gunicorn, against a minimal Flask app in the same run.

1. Creates a throw-away PostgreSQL database, migrates it and loads ``--entries`` tracklist
   entries (default 1,000,000) with COPY: ``entries / 20`` tracklists of 20 tracks each,
   ``entries / 2`` catalogue tracks, ``entries / 100`` DJs and ``entries / 200`` events, with
   made-up names plus a few real ones ("Carl Cox", "Tiësto"...) (see ``bench/api_load.py``).
2. Starts ``tracklists serve`` (gunicorn, ``api.gunicorn_worker.BufferingWorker``) on it, and a
   minimal Flask JSON app under the same gunicorn settings; drives both with wrk
   (``--connections``, default 32) on a cached ``GET /tracklist/{id}``, a cached search and the
   minimal app's one route, alternating target and minimal app for ``--rounds`` runs each (this
   machine's speed drifts within a minute); prints the median req/s, p99 and ratio to the
   minimal app in the same rounds. Goals: >= 50% of the minimal app, p99 <= 50 ms. Two
   references show what every request costs before any endpoint work: ``GET /health`` (not
   rate-limited) and ``GET /cue/formats`` (rate-limited, a marshmallow dump, no database or cache).
   A third shows what the worker class costs: the minimal app under it against the same app
   under gunicorn's plain gthread worker.
3. Slow clients (``bench/slow_clients.py``): the p99 of the cached ``GET /tracklist/{id}``, one
   request after another, idle and with ``--slow-connections`` (default 64) trickling their
   headers or body; goal: within 2x of idle. Then how long the server kept those connections
   (``TRACKLIST_API_CLIENT_TIMEOUT``, ``--client-timeout``) and whether it answered 408.
4. Sends distinct, misspelled searches one at a time (each a cache miss) and prints p50/p95 per
   search type. Goal: p95 <= 25 ms.

Usage: ``uv run python bench/api.py [--entries 1000000] [--duration 5] [--rounds 3]
[--slow-connections 64] [--client-timeout 15]``. Needs wrk (``apt-get install wrk``),
PostgreSQL and Redis on 127.0.0.1 (as the tests do).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
from api_load import load
from slow_clients import measure as measure_slow_clients
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from store.db import make_engine
from store.migrate import upgrade

ADMIN_URL = os.environ.get(
    "TRACKLIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PREFIX = "/api/v1"
MINIMAL_APP = """
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return {"hello": "world"}
"""
_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_P99 = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def gunicorn(
    argv: list[str], env: dict[str, str], cwd: Path, port: int, path: str
) -> Iterator[str]:
    """Run a gunicorn command until the block ends; yields its base URL once ``path`` answers."""
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[-1]} exited with {process.returncode}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk(url: str, connections: int, duration: int) -> tuple[float, float]:
    """Requests per second and p99 latency in milliseconds, after a 2-second warm-up."""
    threads = str(min(connections, os.cpu_count() or 1))
    subprocess.run(
        ["wrk", "-t", threads, "-c", str(connections), "-d", "2s", url],
        check=True,
        capture_output=True,
    )
    output = subprocess.run(
        ["wrk", "-t", threads, "-c", str(connections), "-d", f"{duration}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors on {url}:\n{output}")
    rate = _WRK_RATE.search(output)
    p99 = _WRK_P99.search(output)
    if rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate.group(1)), float(p99.group(1)) * _UNIT_MS[p99.group(2)]


def _compare(
    label: str, url: str, minimal_url: str, args: argparse.Namespace, *, goal: bool
) -> None:
    """wrk the minimal app and ``url`` in turn, ``args.rounds`` times; print the medians.

    Interleaving matters on a shared machine: its speed drifts by tens of percent within a
    minute, so a minimal app measured once, before everything else, makes a poor reference.
    """
    rates, p99s, ratios, minimal_rates, minimal_p99s = [], [], [], [], []
    for _ in range(args.rounds):
        minimal_rate, minimal_p99 = wrk(minimal_url, args.connections, args.duration)
        rate, p99 = wrk(url, args.connections, args.duration)
        rates.append(rate)
        p99s.append(p99)
        minimal_rates.append(minimal_rate)
        minimal_p99s.append(minimal_p99)
        ratios.append(rate / minimal_rate)
    rate, p99, ratio = statistics.median(rates), statistics.median(p99s), statistics.median(ratios)
    verdict = ""
    if goal:
        verdict = "[ok]" if ratio >= 0.5 and p99 <= 50 else "[MISSED]"
    print(
        f"{label:34} {rate:7.0f} req/s  p99 {p99:6.1f} ms  {ratio:4.0%} of minimal "
        f"({statistics.median(minimal_rates):.0f} req/s, p99 "
        f"{statistics.median(minimal_p99s):.1f} ms in the same rounds; "
        f"ratios {', '.join(f'{value:.0%}' for value in ratios)})  {verdict}",
        flush=True,
    )


def _typo(rng: random.Random, name: str) -> str:
    """A plausible misspelling: a letter doubled or dropped, lower case, accents gone."""
    plain = name.lower().replace("ë", "e").replace("ä", "a")
    position = rng.randrange(1, max(2, len(plain) - 1))
    if rng.random() < 0.5:
        return plain[:position] + plain[position] + plain[position:]
    return plain[:position] + plain[position + 1 :]


def search_latencies(
    base: str, data: dict[str, Any], queries: int, rng: random.Random
) -> dict[str, list[float]]:
    """Milliseconds per search, each query distinct (a cache miss), one at a time."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    pools = {"dj": data["dj_names"], "event": data["event_names"], "track": data["track_titles"]}
    results: dict[str, list[float]] = {kind: [] for kind in pools}
    for kind, names in pools.items():
        seen: set[str] = set()
        while len(results[kind]) < queries:
            query = _typo(rng, rng.choice(names))
            if query in seen:
                continue
            seen.add(query)
            path = f"{PREFIX}/search/?" + urlencode({"query": query, "search_type": kind})
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200 or response.getheader("X-Cache") != "MISS":
                raise RuntimeError(f"{path}: {response.status} {response.getheader('X-Cache')}")
            results[kind].append(elapsed)
    return results


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved minimal/target runs per target"
    )
    parser.add_argument("--queries", type=int, default=300, help="searches per type for p95")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--slow-connections", type=int, default=64)
    parser.add_argument(
        "--client-timeout",
        type=float,
        default=Settings.model_fields["api_client_timeout"].default,
        help="TRACKLIST_API_CLIENT_TIMEOUT for the run (seconds)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tracklists_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"tlbench:{uuid.uuid4().hex[:8]}:"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        print(f"loading {args.entries:,} entries...", flush=True)
        data = load(database_url, args.entries)
        print(
            f"loaded {data['tracklists']:,} tracklists, {data['entries']:,} entries, "
            f"{data['tracks']:,} tracks, {data['djs']:,} DJs, {data['events']:,} events "
            f"(COPY {data['copy_seconds']} s, search indexes {data['index_seconds']} s)",
            flush=True,
        )
        _run(args, database_url, prefix, data)
    finally:
        keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            redis.Redis.from_url(REDIS_URL).unlink(*keys)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(args: argparse.Namespace, database_url: str, prefix: str, data: dict[str, Any]) -> None:
    from cli.serve import gunicorn_argv

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "minimal_app.py").write_text(MINIMAL_APP)
        api_port, minimal_port, gthread_port = _free_port(), _free_port(), _free_port()
        env = {
            **os.environ,
            "TRACKLIST_ENVIRONMENT": "test",
            "TRACKLIST_DATA_DIR": str(work / "var"),
            "TRACKLIST_DATABASE_URL": database_url,
            "TRACKLIST_REDIS_URL": REDIS_URL,
            "TRACKLIST_CACHE_KEY_PREFIX": prefix,
            "TRACKLIST_JWT_SECRET": uuid.uuid4().hex * 2,
            "TRACKLIST_API_HOST": "127.0.0.1",
            "TRACKLIST_API_PORT": str(api_port),
            "TRACKLIST_API_WORKERS": str(args.workers),
            "TRACKLIST_API_LOG_LEVEL": "warning",
            "TRACKLIST_API_RATE_LIMIT_ANONYMOUS": "100000000/minute",
            "TRACKLIST_API_CLIENT_TIMEOUT": str(args.client_timeout),
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
        }
        (work / "prometheus").mkdir()
        settings = Settings(
            api_host="127.0.0.1",
            api_port=minimal_port,
            api_workers=args.workers,
            api_log_level="warning",
        )
        minimal_argv = [*gunicorn_argv(settings)[:-1], "--chdir", str(work), "minimal_app:app"]
        gthread_settings = settings.model_copy(update={"api_port": gthread_port})
        gthread_argv = [
            *gunicorn_argv(gthread_settings)[:-1],
            "--chdir",
            str(work),
            "minimal_app:app",
        ]
        worker_class = minimal_argv[minimal_argv.index("--worker-class") + 1]
        gthread_argv[gthread_argv.index(worker_class)] = "gthread"
        print(
            f"gunicorn {worker_class}: {args.workers} workers x {settings.api_threads} threads; "
            f"wrk {args.connections} connections, {args.duration} s runs, "
            f"{args.rounds} rounds alternating with the minimal app (medians)",
            flush=True,
        )
        serve = [sys.executable, "-m", "cli", "serve"]
        with (
            gunicorn(minimal_argv, env, work, minimal_port, "/hello") as minimal,
            gunicorn(gthread_argv, env, work, gthread_port, "/hello") as gthread,
            gunicorn(serve, env, work, api_port, "/health") as api,
        ):
            # What the worker class itself costs, against gunicorn's plain gthread worker.
            _compare(
                "minimal app vs under gthread",
                f"{minimal}/hello",
                f"{gthread}/hello",
                args,
                goal=False,
            )
            # References: what the app costs before any endpoint work (no goal applies).
            targets = {
                "GET /health (not rate-limited)": (f"{api}/health", False),
                "GET /cue/formats (no db/cache)": (f"{api}{PREFIX}/cue/formats", False),
                "GET /tracklist/{id} (cached)": (
                    f"{api}{PREFIX}/tracklist/{data['tracklist_id']}",
                    True,
                ),
                "GET /search/ (cached)": (f"{api}{PREFIX}/search/?query=carl%20coxx", True),
            }
            for label, (url, goal) in targets.items():
                _compare(label, url, f"{minimal}/hello", args, goal=goal)
            measure_slow_clients(
                f"{api}{PREFIX}/tracklist/{data['tracklist_id']}",
                connections=args.slow_connections,
                requests=2000,
                trickle=1.0,
                wait=args.client_timeout + 10,
            )
            latencies = search_latencies(api, data, args.queries, random.Random(11))
        for kind, values in latencies.items():
            p95 = _percentile(values, 95)
            verdict = "[ok]" if p95 <= 25 else "[MISSED]"
            print(
                f"search {kind:6} (cache miss)  p50 {statistics.median(values):5.1f} ms  "
                f"p95 {p95:5.1f} ms  ({len(values)} distinct misspelled queries)  {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()

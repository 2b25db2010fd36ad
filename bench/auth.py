"""What checking a token costs on every authenticated request, cached and not.

A token must still stand (not logged out, its API key not revoked, its user active: see
``service.token_standing``). Before, one Redis ``EXISTS`` on the blocklist answered; now one
``MGET`` on the cache of the database's answers does, and a miss reads the database.

1. In process, per check (``--checks`` each, 7 rounds alternating with the reference, median
   ratio): the old ``EXISTS`` of two keys (the ceiling), the new check on a cache hit, and on
   a miss (the entries deleted before each check: ``MGET``, database queries, ``SET NX``
   pipeline; the deletion's own cost subtracted). Goal: a hit costs at most 1.5x the old
   ``EXISTS``.
2. Under gunicorn and wrk (``--connections``, default 32), as ``bench/api.py`` drives it:
   ``GET /auth/whoami`` with a bearer token (decode, check, role) against the minimal Flask
   app in the same rounds. No goal of its own: run it again with ``--serve-from`` on the code
   before a change, and compare (a JWT decoded twice costs most of it either way).

Usage: ``uv run python bench/auth.py [--checks 2000] [--duration 5] [--rounds 3]``; add
``--serve-from DIR`` to run part 2 on another checkout's code (the same goals). Needs wrk,
PostgreSQL and Redis on 127.0.0.1 (as the tests do); the database and keys are removed after.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.accounts import create_user
from service.token_standing import TokenFacts, standing
from store.auth_states import AuthStates
from store.db import make_engine, make_session_factory, session_scope
from store.migrate import upgrade

PASSWORD = "bench password"


def _bench_api() -> ModuleType:
    # bench/api.py's gunicorn and wrk helpers; loaded by path, as "api" is the API package.
    path = Path(__file__).with_name("api.py")
    spec = importlib.util.spec_from_file_location("bench_api", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _per_check_us(check: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        check()
    return (time.perf_counter() - start) / count * 1e6


def _interleaved(
    check: Callable[[], object], reference: Callable[[], object], count: int, rounds: int = 7
) -> tuple[float, float, float]:
    """Median µs of ``check`` and ``reference`` and of their ratio, measured in turn (this
    machine's speed drifts within seconds: a ratio within one round is the fair figure)."""
    mine, theirs, ratios = [], [], []
    for _ in range(rounds):
        theirs.append(_per_check_us(reference, count))
        mine.append(_per_check_us(check, count))
        ratios.append(mine[-1] / theirs[-1])
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


def in_process(database_url: str, redis_url: str, prefix: str, checks: int) -> None:
    """Part 1: the check itself, old and new, hit and miss."""
    client = redis.Redis.from_url(redis_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        user_id = create_user(session, f"bench-{uuid.uuid4().hex[:6]}", PASSWORD).id
    states = AuthStates(client, f"{prefix}auth:", 60)
    facts = TokenFacts(user_id, (uuid.uuid4().hex, uuid.uuid4().hex))
    old_keys = [f"{prefix}jwt:revoked:{jti}" for jti in facts.jtis]
    session = factory()

    def hit() -> object:
        return standing(lambda: session, states, facts)

    entries = [f"{prefix}auth:user:{user_id}", *(f"{prefix}auth:jti:{j}" for j in facts.jtis)]

    def miss() -> object:
        client.delete(*entries)
        verdict = standing(lambda: session, states, facts)
        session.rollback()  # a request's session ends with the request
        return verdict

    def delete_only() -> object:
        return client.delete(*entries)

    assert hit().refusal is None  # type: ignore[attr-defined]

    def old_check() -> object:
        return client.exists(*old_keys)

    new, old, ratio = _interleaved(hit, old_check, checks)
    verdict = "[ok]" if ratio <= 1.5 else "[MISSED]"
    print(
        f"token check, cache hit     {new:7.1f} us  {ratio:4.2f}x the old blocklist EXISTS "
        f"({old:.1f} us in the same rounds)  {verdict}",
        flush=True,
    )
    missed, deleting, _ = _interleaved(miss, delete_only, max(1, checks // 4))
    print(
        f"token check, cache miss    {missed - deleting:7.1f} us  (MGET + database + SET NX; "
        "once per token and per user or key every TRACKLIST_AUTH_CACHE_SECONDS)",
        flush=True,
    )
    session.close()
    engine.dispose()
    client.close()


def _wrk(
    bench_api: ModuleType, url: str, token: str, connections: int, duration: int
) -> tuple[float, float]:
    threads = str(min(connections, os.cpu_count() or 1))
    header = ["-H", f"Authorization: Bearer {token}"]
    base = ["wrk", "-t", threads, "-c", str(connections), *header]
    subprocess.run([*base, "-d", "2s", url], check=True, capture_output=True)
    output = subprocess.run(
        [*base, "-d", f"{duration}s", "--latency", url], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors on {url}:\n{output}")
    rate = bench_api._WRK_RATE.search(output)
    p99 = bench_api._WRK_P99.search(output)
    if rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate.group(1)), float(p99.group(1)) * bench_api._UNIT_MS[p99.group(2)]


def under_gunicorn(args: argparse.Namespace, database_url: str, prefix: str) -> None:
    """Part 2: an authenticated request end to end, against the minimal app."""
    from cli.serve import gunicorn_argv
    from config.settings import Settings

    bench_api = _bench_api()
    engine = make_engine(database_url)
    username = f"bench-{uuid.uuid4().hex[:6]}"
    with session_scope(make_session_factory(engine)) as session:
        create_user(session, username, PASSWORD, "reader")
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "minimal_app.py").write_text(bench_api.MINIMAL_APP)
        (work / "prometheus").mkdir()
        api_port, minimal_port = bench_api._free_port(), bench_api._free_port()
        env = {
            **os.environ,
            "TRACKLIST_ENVIRONMENT": "test",
            "TRACKLIST_DATA_DIR": str(work / "var"),
            "TRACKLIST_DATABASE_URL": database_url,
            "TRACKLIST_REDIS_URL": args.redis_url,
            "TRACKLIST_CACHE_KEY_PREFIX": prefix,
            "TRACKLIST_JWT_SECRET": uuid.uuid4().hex * 2,
            "TRACKLIST_API_HOST": "127.0.0.1",
            "TRACKLIST_API_PORT": str(api_port),
            "TRACKLIST_API_WORKERS": str(args.workers),
            "TRACKLIST_API_LOG_LEVEL": "warning",
            "TRACKLIST_API_RATE_LIMIT_AUTHENTICATED": "100000000/minute",
            "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"),
        }
        api_env = {**env, "PYTHONPATH": args.serve_from} if args.serve_from else env
        settings = Settings(
            api_host="127.0.0.1",
            api_port=minimal_port,
            api_workers=args.workers,
            api_log_level="warning",
        )
        minimal_argv = [*gunicorn_argv(settings)[:-1], "--chdir", str(work), "minimal_app:app"]
        serve = [sys.executable, "-m", "cli", "serve"]
        with (
            bench_api.gunicorn(minimal_argv, env, work, minimal_port, "/hello") as minimal,
            bench_api.gunicorn(serve, api_env, work, api_port, "/health") as api,
        ):
            request = urllib.request.Request(
                f"{api}/api/v1/auth/token",
                data=json.dumps({"username": username, "password": PASSWORD}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                token = json.load(response)["access_token"]
            rates, p99s, ratios = [], [], []
            for _ in range(args.rounds):
                minimal_rate, _ = bench_api.wrk(f"{minimal}/hello", args.connections, args.duration)
                rate, p99 = _wrk(
                    bench_api, f"{api}/api/v1/auth/whoami", token, args.connections, args.duration
                )
                rates.append(rate)
                p99s.append(p99)
                ratios.append(rate / minimal_rate)
    rate, p99, ratio = statistics.median(rates), statistics.median(p99s), statistics.median(ratios)
    source = f"; served from {args.serve_from}" if args.serve_from else ""
    print(
        f"GET /auth/whoami (bearer)  {rate:7.0f} req/s  p99 {p99:6.1f} ms  {ratio:4.0%} of minimal "
        f"(ratios {', '.join(f'{value:.0%}' for value in ratios)}; {args.workers} workers, "
        f"{args.connections} connections{source})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--serve-from",
        help="serve the API from another checkout (e.g. `git archive main` unpacked) to compare",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    args = parser.parse_args()
    admin_url = os.environ.get(
        "TRACKLIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"tracklists_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"tlbench:{uuid.uuid4().hex[:8]}:"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        in_process(database_url, args.redis_url, prefix, args.checks)
        under_gunicorn(args, database_url, prefix)
    finally:
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.unlink(*keys)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

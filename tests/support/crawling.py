"""Run the real crawler in a subprocess against a local site, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def crawl_env(base_url: str, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment for ``scrapy crawl``: the local site, a test database and Redis, no delay."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    env.update(
        TRACKLIST_SCRAPING_BASE_URL=base_url,
        TRACKLIST_DATABASE_URL=database_url,
        TRACKLIST_REDIS_URL=redis_url,
        TRACKLIST_SCRAPING_RATE_LIMIT_DELAY="0",
        TRACKLIST_SCRAPING_RETRY_DELAY_BASE="0.1",
        TRACKLIST_SCRAPING_MAX_RETRIES="1",
    )
    env.update(extra)
    return env


def spider_command(
    spider: str, args: tuple[str, ...] = (), settings: dict[str, str] | None = None
) -> list[str]:
    """``python -m scrapy crawl SPIDER -a ARG... -s K=V...`` with a private budget namespace."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        command += ["-a", arg]
    merged = {
        "AUTOTHROTTLE_ENABLED": "False",
        # A private budget namespace so parallel tests never wait on each other's turns.
        "TRACKLIST_BUDGET_KEY_PREFIX": f"test:budget:{uuid.uuid4().hex[:8]}:",
        **(settings or {}),
    }
    for key, value in merged.items():
        command += ["-s", f"{key}={value}"]
    return command


def run_spider(
    spider: str,
    env: dict[str, str],
    *args: str,
    settings: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl SPIDER -a ARG... -s K=V...`` from the project root; output captured."""
    command = spider_command(spider, args, settings)
    return subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_spider(
    spider: str, env: dict[str, str], *args: str, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Like :func:`run_spider` but in the background (for tests that kill or wait on it).

    The log goes to a file (``process.log_path``), never a pipe: nobody reads a pipe while
    the crawl runs, and a full one would block the crawler on its next log line.
    """
    command = spider_command(spider, args, settings)
    log = tempfile.NamedTemporaryFile(prefix=f"{spider}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    log.close()  # the child has its own descriptor
    process.log_path = Path(log.name)  # type: ignore[attr-defined]
    return process

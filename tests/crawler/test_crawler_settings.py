"""The Scrapy settings come from TRACKLIST_* and keep politeness and safety on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.programs

ROOT = Path(__file__).resolve().parents[2]


def _setting(name: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "settings", "--get", name],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_safety_and_politeness_defaults() -> None:
    assert _setting("TELNETCONSOLE_ENABLED") == "False"
    assert _setting("REMOTE_CONTROL_ENABLED") == "False"
    assert _setting("ROBOTSTXT_OBEY") == "True"
    assert _setting("AUTOTHROTTLE_ENABLED") == "True"
    assert _setting("CONCURRENT_REQUESTS_PER_DOMAIN") == "1"
    assert _setting("DOWNLOAD_DELAY") == "2.0"


def test_tracklist_variables_become_scrapy_settings() -> None:
    env = {
        "TRACKLIST_SCRAPING_RATE_LIMIT_DELAY": "8",
        "TRACKLIST_SCRAPING_MAX_RETRIES": "5",
        "TRACKLIST_SCRAPING_BASE_URL": "http://127.0.0.1:8080/",
        "TRACKLIST_SCRAPING_USER_AGENT": "TestBot/1 (+mailto:ops@example.org)",
    }
    assert _setting("DOWNLOAD_DELAY", **env) == "8.0"
    assert _setting("RETRY_TIMES", **env) == "5"
    assert _setting("TRACKLIST_BASE_URL", **env) == "http://127.0.0.1:8080"
    assert _setting("USER_AGENT", **env) == "TestBot/1 (+mailto:ops@example.org)"


def test_bad_variable_stops_scrapy_with_its_name() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        env={**base, "TRACKLIST_SCRAPING_RATE_LIMIT_DELAY": "soon"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Error: TRACKLIST_SCRAPING_RATE_LIMIT_DELAY='soon': Input should be a valid number, "
        "unable to parse string as a number"
    ]

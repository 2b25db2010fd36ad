"""Configuration: seed names and defaults, validation naming the variable, database choice."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]

SEED_DEFAULTS = {
    "api_host": "0.0.0.0",
    "api_port": 8000,
    "api_workers": 1,
    "api_reload": False,
    "api_log_level": "info",
    "api_prefix": "/api/v1",
    "api_docs_enabled": True,
    "scraping_request_timeout": 30,
    "scraping_max_retries": 3,
    "scraping_retry_delay_base": 1.0,
    "scraping_rate_limit_delay": 2.0,
    "scraping_session_timeout": 3600,
    "scraping_respect_robots_txt": True,
    "cache_enabled": True,
    "cache_redis_host": "localhost",
    "cache_redis_port": 6379,
    "cache_redis_db": 1,
    "cache_redis_password": None,
    "cache_search_ttl_hours": 24,
    "cache_failed_search_ttl_minutes": 30,
    "cache_key_prefix": "tracklist:",
    "mq_rabbitmq_url": "amqp://guest:guest@localhost:5672/",
    "mq_exchange_name": "tracktion_exchange",
    "mq_search_queue": "tracklist_search_queue",
    "mq_search_routing_key": "tracklist.search",
    "mq_result_routing_key": "tracklist.result",
    "mq_max_retries": 3,
    "mq_base_delay_seconds": 2.0,
    "mq_prefetch_count": 1,
    "database_host": "localhost",
    "database_port": 5432,
    "database_name": "tracktion_tracklist",
    "database_user": "tracklist_user",
    "database_password": "tracklist_password",
    "log_level": "INFO",
    "metrics_enabled": True,
    "health_check_enabled": True,
    "debug_mode": False,
}


def test_seed_defaults() -> None:
    settings = load_settings({}, env_file=None)
    assert {name: getattr(settings, name) for name in SEED_DEFAULTS} == SEED_DEFAULTS


def test_values_are_read_and_coerced() -> None:
    settings = load_settings(
        {
            "TRACKLIST_API_PORT": "9001",
            "TRACKLIST_DEBUG_MODE": "true",
            "TRACKLIST_LOG_LEVEL": "debug",
            "TRACKLIST_SCRAPING_RATE_LIMIT_DELAY": "8",
            "UNRELATED": "x",
        },
        env_file=None,
    )
    assert (settings.api_port, settings.debug_mode, settings.log_level) == (9001, True, "DEBUG")
    assert settings.scraping_rate_limit_delay == 8.0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKLIST_API_PORT", "eighty"),
        ("TRACKLIST_API_PORT", "70000"),
        ("TRACKLIST_API_WORKERS", "0"),
        ("TRACKLIST_DEBUG_MODE", "maybe"),
        ("TRACKLIST_LOG_LEVEL", "LOUD"),
        ("TRACKLIST_API_PREFIX", "api/v1/"),
        ("TRACKLIST_SCRAPING_BASE_URL", "ftp://example.com"),
        ("TRACKLIST_SCRAPING_MAX_RETRIES", "-1"),
        ("TRACKLIST_DATABASE_URL", "not a url"),
        ("TRACKLIST_REDIS_URL", "http://localhost"),
        ("TRACKLIST_MQ_RABBITMQ_URL", "localhost:5672"),
        ("TRACKLIST_ENVIRONMENT", "staging"),
    ],
)
def test_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({variable: value}, env_file=None)
    message = str(info.value)
    assert message.startswith(f"{variable}=")
    assert "\n" not in message


def test_secrets_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"TRACKLIST_CACHE_REDIS_PASSWORD": "s3cret", "TRACKLIST_API_PORT": "x"})
    assert "s3cret" not in str(info.value)


def test_embedded_sqlite_is_the_default(tmp_path: Path) -> None:
    settings = load_settings({"TRACKLIST_DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.uses_embedded_database
    assert settings.sqlalchemy_url.database == str(tmp_path / "tracklists.db")


def test_seed_database_variables_select_postgres() -> None:
    settings = load_settings({"TRACKLIST_DATABASE_HOST": "db.internal"}, env_file=None)
    url = settings.sqlalchemy_url
    assert (url.drivername, url.host, url.database) == (
        "postgresql+psycopg",
        "db.internal",
        "tracktion_tracklist",
    )


def test_database_url_wins_and_uses_psycopg3() -> None:
    settings = load_settings(
        {"TRACKLIST_DATABASE_URL": "postgresql://u@h/d", "TRACKLIST_DATABASE_HOST": "other"},
        env_file=None,
    )
    assert settings.sqlalchemy_url.render_as_string() == "postgresql+psycopg://u@h/d"


def test_redis_url_built_from_seed_cache_variables() -> None:
    settings = load_settings(
        {"TRACKLIST_CACHE_REDIS_HOST": "cache", "TRACKLIST_CACHE_REDIS_PASSWORD": "p@ss"},
        env_file=None,
    )
    assert settings.effective_redis_url == "redis://:p%40ss@cache:6379/1"
    explicit = load_settings({"TRACKLIST_REDIS_URL": "redis://r:6380/0"}, env_file=None)
    assert explicit.effective_redis_url == "redis://r:6380/0"


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TRACKLIST_API_PORT=7000\nTRACKLIST_API_WORKERS=3\n")
    settings = load_settings({"TRACKLIST_API_WORKERS": "5"}, env_file=env_file)
    assert (settings.api_port, settings.api_workers) == (7000, 5)


def test_env_example_lists_every_setting_and_only_those() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*(TRACKLIST_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    expected = {f"TRACKLIST_{name.upper()}" for name in Settings.model_fields}
    assert listed == expected


def test_env_example_values_are_valid() -> None:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("TRACKLIST_"):
            key, _, value = line.partition("=")
            values[key] = value
    load_settings(values, env_file=None)


@pytest.mark.programs
def test_cli_reports_a_bad_value_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "db", "current"],
        env={"TRACKLIST_API_PORT": "eighty", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TRACKLIST_API_PORT" in lines[0]

"""The service's one configuration: environment variables with the ``TRACKLIST_`` prefix.

Every process (API, crawl workers, relay, CLI) reads its configuration here, once, at
start-up. Names and defaults follow the seed service description; a bad value stops the
process with a one-line message naming the variable (:class:`ConfigError`).

Database selection, in order:

1. ``TRACKLIST_DATABASE_URL`` when set (any SQLAlchemy URL; ``postgresql://`` means psycopg 3);
2. a PostgreSQL URL built from ``TRACKLIST_DATABASE_HOST/PORT/NAME/USER/PASSWORD`` when any of
   them is set explicitly (the seed's variables);
3. otherwise an embedded SQLite file under ``TRACKLIST_DATA_DIR`` so a newcomer can run the
   service with nothing installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url

ENV_PREFIX = "TRACKLIST_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_SEED_DATABASE_FIELDS = (
    "database_host",
    "database_port",
    "database_name",
    "database_user",
    "database_password",
)


class ConfigError(Exception):
    """A ``TRACKLIST_*`` variable has a value the service cannot run with."""


class Settings(BaseModel):
    """All ``TRACKLIST_*`` settings. Field ``api_port`` is variable ``TRACKLIST_API_PORT``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # --- environment ---------------------------------------------------------------------
    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")

    # --- API ------------------------------------------------------------------------------
    api_host: str = "0.0.0.0"  # noqa: S104 - the seed's default; containers need it
    api_port: int = Field(8000, ge=1, le=65535)
    api_workers: int = Field(1, ge=1, le=64)
    api_reload: bool = False
    api_log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    api_prefix: str = "/api/v1"
    api_docs_enabled: bool = True
    # Cached reads are CPU work under one GIL per worker: more threads only queue for it.
    api_threads: int = Field(4, ge=1, le=256)
    # One listening socket per worker (SO_REUSEPORT): the kernel spreads connections evenly.
    # With one shared socket, whichever worker wakes first accepts, and under load one
    # worker can hold most kept-alive connections while the other idles.
    api_reuse_port: bool = True
    api_max_content_length: int = Field(1_048_576, ge=1024)
    # Seconds a client has to send a whole request (headers and body) once it starts; then it
    # gets a 408 and is closed. Requests are read by the worker's event loop (api.gunicorn_worker),
    # so a slow client holds no thread meanwhile, only a socket and its buffered bytes.
    api_client_timeout: float = Field(15, gt=0, le=600)
    api_trusted_proxies: int = Field(0, ge=0, le=10)
    api_rate_limit_anonymous: str = "60/minute"
    api_rate_limit_authenticated: str = "600/minute"
    api_rate_limit_login: str = "10/minute"
    # Per account, over every address: after this many failed logins in a row, each further
    # failure makes the next try wait 1, 2, 4... seconds up to the maximum (not a lockout).
    api_login_failures_before_delay: int = Field(5, ge=0, le=1000)
    api_login_delay_max_seconds: int = Field(300, ge=1, le=86400)
    # How long Redis caches a token's standing (revoked? key revoked? user active, role?) read
    # from the database; changes are published at once, this only bounds a missed publish.
    auth_cache_seconds: int = Field(60, ge=1, le=3600)
    jwt_secret: str | None = None
    jwt_access_token_minutes: int = Field(15, ge=1, le=1440)
    jwt_refresh_token_days: int = Field(30, ge=1, le=365)
    media_root: Path | None = None
    storage_dir: Path | None = None
    api_crawl_requires_auth: bool = True
    api_tracklist_max_age_hours: float = Field(24, gt=0)
    batch_max_items: int = Field(500, ge=1, le=100_000)

    # --- scraping -------------------------------------------------------------------------
    scraping_base_url: str = "https://www.1001tracklists.com"
    scraping_request_timeout: float = Field(30, gt=0, le=600)
    scraping_max_retries: int = Field(3, ge=0, le=20)
    scraping_retry_delay_base: float = Field(1.0, ge=0, le=600)
    scraping_rate_limit_delay: float = Field(2.0, ge=0, le=3600)
    scraping_session_timeout: int = Field(3600, ge=1)
    scraping_respect_robots_txt: bool = True
    scraping_user_agent: str = (
        "TracklistService/0.1 (+https://github.com/tracktion/tracklist-service)"
    )

    # --- on-demand crawl workers (see README "On-demand crawls") ---------------------------
    worker_batch: int = Field(4, ge=1, le=100)
    worker_lease_seconds: float = Field(300.0, gt=0)
    worker_renew_interval: float = Field(60.0, gt=0)
    worker_requeue_after: float = Field(600.0, ge=0)
    worker_max_attempts: int = Field(3, ge=1, le=100)
    # Where workers beat in Redis; every process that lists workers reads the same prefix.
    worker_heartbeat_key_prefix: str = Field("tracklists:heartbeat:worker:", min_length=1)

    # --- cache (Redis) --------------------------------------------------------------------
    cache_enabled: bool = True
    cache_redis_host: str = "localhost"
    cache_redis_port: int = Field(6379, ge=1, le=65535)
    cache_redis_db: int = Field(1, ge=0, le=15)
    cache_redis_password: str | None = None
    cache_search_ttl_hours: float = Field(24, gt=0)
    cache_failed_search_ttl_minutes: float = Field(30, gt=0)
    cache_tracklist_ttl_hours: float = Field(24, gt=0)
    cache_stamp_seconds: float = Field(1.0, ge=0, le=60)
    cache_key_prefix: str = "tracklist:"
    redis_url: str | None = None

    # --- message queue (RabbitMQ) ---------------------------------------------------------
    mq_rabbitmq_url: str = "amqp://guest:guest@localhost:5672/"
    mq_exchange_name: str = "tracktion_exchange"
    mq_search_queue: str = "tracklist_search_queue"
    mq_search_routing_key: str = "tracklist.search"
    mq_retrieval_queue: str = "tracklist_retrieval_queue"
    mq_files_queue: str = "tracklist_file_events_queue"
    mq_result_routing_key: str = "tracklist.result"
    mq_max_retries: int = Field(3, ge=0, le=100)
    mq_base_delay_seconds: float = Field(2.0, ge=0)
    mq_prefetch_count: int = Field(1, ge=1, le=10000)
    # Consumers' /metrics: search on the port, retrieval on +1, files on +2; -1 = off, 0 = any.
    consumer_metrics_host: str = "127.0.0.1"
    consumer_metrics_port: int = Field(9411, ge=-1, le=65533)

    # --- database -------------------------------------------------------------------------
    database_url: str | None = None
    database_host: str = "localhost"
    database_port: int = Field(5432, ge=1, le=65535)
    database_name: str = "tracktion_tracklist"
    database_user: str = "tracklist_user"
    database_password: str = "tracklist_password"  # noqa: S105 - the seed's documented default
    database_pool_size: int = Field(5, ge=1, le=200)

    # --- service --------------------------------------------------------------------------
    log_level: LogLevel = "INFO"
    log_format: Literal["json", "text"] = "json"
    metrics_enabled: bool = True
    health_check_enabled: bool = True
    debug_mode: bool = False

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("api_log_level", mode="before")
    @classmethod
    def _lower_api_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("api_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("must start with '/' and not end with '/' (e.g. /api/v1)")
        return value

    @field_validator(
        "api_rate_limit_anonymous", "api_rate_limit_authenticated", "api_rate_limit_login"
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse_many  # the rate limiter's own parser, imported only when set

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                "must be a rate limit such as 60/minute or 10/second;1000/day"
            ) from None
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: str | None) -> str | None:
        # HS256 needs a key at least as long as its 256-bit output to be worth its name.
        if value is not None and value != "" and len(value) < 32:
            raise ValueError("must be at least 32 characters (openssl rand -hex 32)")
        return value or None

    @field_validator("scraping_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://www.1001tracklists.com")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            make_url(value)
        except Exception as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("mq_rabbitmq_url")
    @classmethod
    def _check_amqp_url(cls, value: str) -> str:
        if not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        return value

    @cached_property
    def sqlalchemy_url(self) -> URL:
        """The database to use (see the module docstring for the order of precedence)."""
        if self.database_url:
            return _with_psycopg(make_url(self.database_url))
        if self.model_fields_set.intersection(_SEED_DATABASE_FIELDS):
            return URL.create(
                "postgresql+psycopg",
                username=self.database_user,
                password=self.database_password,
                host=self.database_host,
                port=self.database_port,
                database=self.database_name,
            )
        return URL.create("sqlite+pysqlite", database=str(self.data_dir / "tracklists.db"))

    @property
    def uses_embedded_database(self) -> bool:
        """True when no database was configured and the SQLite default is in use."""
        return self.sqlalchemy_url.get_backend_name() == "sqlite"

    @property
    def cue_storage_dir(self) -> Path:
        """Where generated CUE files are written: ``TRACKLIST_STORAGE_DIR`` or ``<data>/cue``."""
        return self.storage_dir if self.storage_dir is not None else self.data_dir / "cue"

    @cached_property
    def effective_redis_url(self) -> str:
        """``TRACKLIST_REDIS_URL``, or one built from the seed's ``TRACKLIST_CACHE_REDIS_*``."""
        if self.redis_url:
            return self.redis_url
        auth = f":{quote(self.cache_redis_password, safe='')}@" if self.cache_redis_password else ""
        return (
            f"redis://{auth}{self.cache_redis_host}:{self.cache_redis_port}/{self.cache_redis_db}"
        )


def _with_psycopg(url: URL) -> URL:
    """Make a bare ``postgresql://`` URL use psycopg 3 (SQLAlchemy's default is psycopg2)."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


class _Variables(BaseSettings, Settings):
    """The fields of :class:`Settings` as pydantic-settings reads them: ``TRACKLIST_`` names."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)


class _Mapping(EnvSettingsSource):
    """``TRACKLIST_*`` variables from a mapping: the process environment, or a test's own."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables
        super().__init__(_Variables)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._variables.items()}


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read and validate the settings; raise :class:`ConfigError` naming the bad variable.

    ``environ`` defaults to ``os.environ``, over the values of ``env_file`` when it exists
    (the process environment wins, as docker-compose and systemd expect). pydantic-settings
    reads both; :class:`Settings` validates what they hold.
    """
    variables = os.environ if environ is None else environ
    values = DotEnvSettingsSource(_Variables, env_file=env_file)() if env_file else {}
    values.update(_Mapping(variables)())
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = ENV_PREFIX + field.upper()
        given = values.get(field, "")
        shown = "***" if "password" in field or "secret" in field else repr(given)
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{variable}={shown}: {message}") from None

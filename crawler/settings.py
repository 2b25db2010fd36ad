"""Scrapy settings for the crawler, derived from the ``TRACKLIST_*`` configuration.

Spiders and components read these settings (never the environment): this module is the one
place where the service's configuration becomes Scrapy's. Politeness is on by default.
"""

from __future__ import annotations

from config import logs
from config.settings import ConfigError, load_settings
from crawler.middlewares import defaults as _politeness

try:
    _config = load_settings()
except ConfigError as exc:
    # A one-line message naming the variable, not a traceback from inside Scrapy.
    raise SystemExit(f"Error: {exc}") from None

BOT_NAME = "tracklists"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- the site and who we are -------------------------------------------------------------
TRACKLIST_BASE_URL = _config.scraping_base_url
USER_AGENT = _config.scraping_user_agent

# --- politeness ----------------------------------------------------------------------------
ROBOTSTXT_OBEY = _config.scraping_respect_robots_txt
DOWNLOAD_DELAY = _config.scraping_rate_limit_delay
RANDOMIZE_DOWNLOAD_DELAY = False
CONCURRENT_REQUESTS_PER_DOMAIN = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = max(_config.scraping_rate_limit_delay, 1.0)
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = _config.scraping_request_timeout
RETRY_ENABLED = True
RETRY_TIMES = _config.scraping_max_retries
TRACKLIST_RETRY_DELAY_BASE = _config.scraping_retry_delay_base
# Real pages are < 400 kB; anything far larger is not a tracklist page.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# A page yields one tracklist item (or a few dozen requests): Scrapy 2.13+ starts a task per
# CONCURRENT_ITEMS slot for every response, so its default of 100 was 100 idle tasks per
# page; 8 keeps a listing page's requests flowing (measured: ~30% less CPU per page).
CONCURRENT_ITEMS = 8

# --- politeness beyond Scrapy (crawler/middlewares; defaults in crawler/middlewares/defaults.py)
DOWNLOADER_MIDDLEWARES = {
    # A redirect hop to another host or port fails before it is fetched.
    "crawler.middlewares.redirects.OffSiteRedirectMiddleware": _politeness.REDIRECTS_PRIORITY,
    # Scrapy's robots.txt and retry middlewares are replaced in their own slots.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.PoliteRobotsTxtMiddleware": _politeness.ROBOTS_PRIORITY,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": _politeness.RETRY_PRIORITY,
    # Sees bodies after decompression, before meta-refresh and retry can act on a challenge.
    "crawler.middlewares.antibot.AntiBotMiddleware": _politeness.ANTIBOT_PRIORITY,
    # Closest to the network: every request that really goes out waits for its host's turn.
    "crawler.middlewares.pacing.HostPacingMiddleware": _politeness.PACING_PRIORITY,
}
# Retries wait RETRY_DELAY_BASE * 2**(n-1) s, at most this; a Retry-After at most the next.
TRACKLIST_RETRY_DELAY_MAX = _politeness.RETRY_DELAY_MAX
TRACKLIST_RETRY_AFTER_MAX = _politeness.RETRY_AFTER_MAX
# robots.txt answering 5xx/429 or unreachable: no request to the host for this long, doubling
# up to the max; after MAX_ATTEMPTS failures in a row, waiting requests are dropped.
TRACKLIST_ROBOTS_5XX_DEFER = _politeness.ROBOTS_5XX_DEFER
TRACKLIST_ROBOTS_5XX_DEFER_MAX = _politeness.ROBOTS_5XX_DEFER_MAX
TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS = _politeness.ROBOTS_5XX_MAX_ATTEMPTS
# Challenge, captcha or IP-block page: the request is blocked and the host paused (doubling).
TRACKLIST_ANTIBOT_ENABLED = True
TRACKLIST_ANTIBOT_BACKOFF_BASE = _politeness.ANTIBOT_BACKOFF_BASE
TRACKLIST_ANTIBOT_BACKOFF_MAX = _politeness.ANTIBOT_BACKOFF_MAX
TRACKLIST_HOST_PACING_ENABLED = True
# Every worker on TRACKLIST_REDIS_URL shares one per-host budget (off: this process only).
TRACKLIST_SHARED_BUDGET_ENABLED = True
TRACKLIST_BUDGET_KEY_PREFIX = _politeness.BUDGET_KEY_PREFIX

# --- safety -----------------------------------------------------------------------------------
# The telnet console and any remote-control extension can run code: never on in this service.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
COOKIES_ENABLED = False

# --- storage and events ------------------------------------------------------------------
TRACKLIST_DATABASE_URL = _config.sqlalchemy_url.render_as_string(hide_password=False)
TRACKLIST_REDIS_URL = _config.effective_redis_url
TRACKLIST_MQ_URL = _config.mq_rabbitmq_url
TRACKLIST_MQ_EXCHANGE = _config.mq_exchange_name

LOG_LEVEL = _config.log_level
if _config.log_format == "json":
    # Scrapy's own handler writes text from its very first line; ours writes JSON lines, so
    # Scrapy installs none (LOG_ENABLED=False) and every record reaches ours instead.
    LOG_ENABLED = False
    logs.configure("crawler", _config.log_level, "json")
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# --- parsing: tracklist pages are parsed in this many worker processes (0 = a thread) -------
TRACKLIST_PARSE_PROCESSES = 1

# --- pipelines: validate, then store (with the outbox events) in one transaction ------------
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.storage.StorePipeline": 300,
}
# How long the store waits for a database that dropped the connection before giving up.
TRACKLIST_STORE_MAX_WAIT = 120.0

# --- the on-demand worker (scrapy crawl worker) ----------------------------------------------
REDIS_URL = TRACKLIST_REDIS_URL  # scrapy-redis reads this name
TRACKLIST_CRAWL_QUEUE_KEY = "tracklists:crawl:requests"
# A worker takes this many requests at a time and holds leases on them, renewed every
# RENEW_INTERVAL while it lives; a dead worker's leases expire and any worker requeues them.
TRACKLIST_WORKER_BATCH = _config.worker_batch
TRACKLIST_WORKER_LEASE_SECONDS = _config.worker_lease_seconds
TRACKLIST_WORKER_RENEW_INTERVAL = _config.worker_renew_interval
TRACKLIST_WORKER_HEARTBEAT_KEY_PREFIX = _config.worker_heartbeat_key_prefix
# Queued requests older than this that Redis no longer holds (e.g. after a restart) are pushed
# again; a request whose worker died MAX_ATTEMPTS times fails.
TRACKLIST_WORKER_REQUEUE_AFTER = _config.worker_requeue_after
TRACKLIST_WORKER_MAX_ATTEMPTS = _config.worker_max_attempts
# 0 = run until stopped; tests and one-shot runs close an idle worker after this many seconds.
MAX_IDLE_TIME_BEFORE_CLOSE = 0

# --- the outbox relay inside a crawl process (off: run `tracklists relay` separately) --------
EXTENSIONS = {
    "crawler.extensions.OutboxRelayExtension": 500,
    "crawler.metrics.CrawlerMetrics": 510,
}
TRACKLIST_RELAY_IN_WORKER = False
TRACKLIST_RELAY_FINAL_DRAIN_SECONDS = 10.0

# --- metrics: Prometheus /metrics while the crawl runs (port 0 = any free port, -1 = off) ------
TRACKLIST_METRICS_ENABLED = _config.metrics_enabled
TRACKLIST_CRAWLER_METRICS_HOST = "127.0.0.1"
TRACKLIST_CRAWLER_METRICS_PORT = 9410

"""Constants of the politeness middlewares: setting defaults, meta keys, stats keys.

Every default here is the value used when the setting is absent; ``crawler/settings.py`` sets
them explicitly so ``scrapy settings --get`` shows what a crawl will do.
"""

from __future__ import annotations

# --- middleware order (DOWNLOADER_MIDDLEWARES) ---------------------------------------------
# process_request runs low -> high, process_response high -> low.
# First of all: a redirect hop off the site fails before anything (robots.txt included) is
# fetched from its host; Scrapy's OffsiteMiddleware is 50.
REDIRECTS_PRIORITY = 40
ROBOTS_PRIORITY = 100  # replaces Scrapy's RobotsTxtMiddleware in its slot
RETRY_PRIORITY = 550  # replaces Scrapy's RetryMiddleware in its slot
# After HttpCompressionMiddleware (590) has decompressed the body, before MetaRefresh (580)
# could follow a challenge page's refresh and before Retry (550) sees it.
ANTIBOT_PRIORITY = 585
# Closest to the network: every request that really goes out is paced, cache hits are not.
PACING_PRIORITY = 950

# --- retries --------------------------------------------------------------------------------
RETRY_DELAY_BASE = 1.0  # TRACKLIST_RETRY_DELAY_BASE: first backoff; doubles per retry
RETRY_DELAY_MAX = 300.0  # TRACKLIST_RETRY_DELAY_MAX: cap of the exponential backoff
RETRY_AFTER_MAX = 3600.0  # TRACKLIST_RETRY_AFTER_MAX: cap of a server's Retry-After
# Statuses whose Retry-After applies to the whole host (RFC 9110 §10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})

# --- robots.txt -------------------------------------------------------------------------------
ROBOTS_5XX_DEFER = 600.0  # TRACKLIST_ROBOTS_5XX_DEFER: first deferral after a failed fetch
ROBOTS_5XX_DEFER_MAX = 21600.0  # TRACKLIST_ROBOTS_5XX_DEFER_MAX: cap of the doubling deferral
# TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS: consecutive failed fetches after which requests for the
# host are dropped (RobotsTxtUnavailable) instead of waiting.
ROBOTS_5XX_MAX_ATTEMPTS = 3

# --- anti-bot pages ---------------------------------------------------------------------------
ANTIBOT_BACKOFF_BASE = 300.0  # TRACKLIST_ANTIBOT_BACKOFF_BASE: first pause of a host
ANTIBOT_BACKOFF_MAX = 21600.0  # TRACKLIST_ANTIBOT_BACKOFF_MAX: cap of the doubling pause
BLOCKING_PAGE_TYPES = frozenset({"challenge", "captcha", "ip_blocked"})

# --- shared per-host budget (Redis) ---------------------------------------------------------
BUDGET_KEY_PREFIX = "tracklist:budget:"  # TRACKLIST_BUDGET_KEY_PREFIX
# A reservation further ahead than this is not taken: the worker waits and asks again, so a
# deferral set meanwhile by another worker is seen, and a dead worker holds nothing for long.
BUDGET_HORIZON_MIN = 1.0
# Connections per process to the budget's Redis (requests beyond wait for a free one).
BUDGET_MAX_CONNECTIONS = 16
# While the budget's Redis is unreachable no turn is booked; a process asks Redis again at
# most this often (seconds).
BUDGET_PROBE_INTERVAL = 1.0
# How long a host's shared Crawl-delay is remembered without being refreshed.
BUDGET_INTERVAL_TTL = 86400
# A request holding a host's turn that has been downloading this long past DOWNLOAD_TIMEOUT is
# assumed lost (e.g. dropped by another middleware): the next request takes the turn.
LEASE_GRACE = 60.0

# Added to every non-zero spacing: a turn starts on time but the request leaves a few
# milliseconds later (timers, a busy reactor), so without it the site could see two requests
# slightly closer than the delay.
PACING_MARGIN = 0.1

# --- stopping -------------------------------------------------------------------------------
# How often a crawler looks whether it is stopping: requests waiting in the politeness
# middlewares (a turn, a paused host, a retry backoff) are then dropped (CrawlerStopping)
# within this many seconds, so a graceful stop never waits for a pause to end.
STOP_CHECK_INTERVAL = 0.5

# --- request meta keys ------------------------------------------------------------------------
META_PAGE_TYPE = "tracklist_page_type"  # set by the anti-bot check: classify()'s answer
META_BLOCKED = "tracklist_blocked"  # page type of the anti-bot page that blocked the request

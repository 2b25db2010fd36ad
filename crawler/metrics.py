"""Prometheus metrics of a running crawl, served over HTTP while it runs.

The crawler's numbers already live in Scrapy's stats; this extension exposes them at scrape
time (nothing is double-counted or kept twice): pages, stored items by outcome, drops by
reason, anti-bot blocks by page type, retries, responses by HTTP status (429s among them),
robots.txt denials and parse errors, plus every other numeric stat as ``tracklists_crawler_stat``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, Self

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

# (metric name, help, stats-key pattern with one label group or none, label name)
LABELLED: tuple[tuple[str, str, str, str | None], ...] = (
    ("tracklists_crawler_pages", "Responses received", r"response_received_count", None),
    ("tracklists_crawler_items", "Tracklists stored, by outcome", r"store/(\w+)", "outcome"),
    (
        "tracklists_crawler_drops",
        "Items dropped by validation",
        r"validate/dropped/(\w+)",
        "reason",
    ),
    (
        "tracklists_crawler_blocked",
        "Anti-bot pages met",
        r"antibot/(challenge|captcha|ip_blocked|decoy)",
        "page_type",
    ),
    ("tracklists_crawler_retries", "Retried requests", r"retry/count", None),
    (
        "tracklists_crawler_responses",
        "Responses by HTTP status",
        r"downloader/response_status_count/(\d+)",
        "status",
    ),
    (
        "tracklists_crawler_robots_denied",
        "Requests robots.txt forbade",
        r"robotstxt/forbidden",
        None,
    ),
    (
        "tracklists_crawler_parse_errors",
        "Pages the parsers rejected",
        r"parse/errors/(\w+)",
        "page_type",
    ),
)
_PATTERNS = [
    (name, doc, re.compile(pattern + "$"), label) for name, doc, pattern, label in LABELLED
]


class StatsCollectorBridge(Collector):
    """Reads the crawler's stats whenever Prometheus scrapes."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        numeric = {
            key: float(value)
            for key, value in self.stats.get_stats().items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        for name, doc, pattern, label in _PATTERNS:
            family = CounterMetricFamily(name, doc, labels=[label] if label else [])
            for key, value in numeric.items():
                match = pattern.match(key)
                if match:
                    family.add_metric([match.group(1)] if label else [], value)
            yield family
        everything = GaugeMetricFamily(
            "tracklists_crawler_stat", "Every numeric Scrapy stat, by its name", labels=["name"]
        )
        for key, value in sorted(numeric.items()):
            everything.add_metric([key], value)
        yield everything


class CrawlerMetrics:
    """Serves ``/metrics`` on ``TRACKLIST_CRAWLER_METRICS_HOST:PORT`` during the crawl."""

    def __init__(self, stats: StatsCollector, host: str, port: int) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(StatsCollectorBridge(stats))
        self.host = host
        self.port = port
        self.server: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        port = settings.getint("TRACKLIST_CRAWLER_METRICS_PORT")
        if not settings.getbool("TRACKLIST_METRICS_ENABLED") or port < 0:
            raise NotConfigured("crawler metrics are off")
        assert crawler.stats is not None
        extension = cls(crawler.stats, settings.get("TRACKLIST_CRAWLER_METRICS_HOST"), port)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        try:
            self.server, _thread = start_http_server(self.port, self.host, registry=self.registry)
        except OSError as exc:
            # Another crawler on this machine has the port: crawl on, without metrics.
            log.warning("crawler metrics not served on %s:%d: %s", self.host, self.port, exc)
            return
        self.port = int(self.server.server_address[1])
        log.info("crawler metrics on http://%s:%d/metrics", self.host, self.port)

    def spider_closed(self, spider: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

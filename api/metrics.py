"""Prometheus metrics: ``GET /metrics`` (outside the API prefix, no authentication).

Requests are counted and timed per route template (``/api/v1/tracklist/<id>``, never the
raw path, which would make one series per id). Each app has its own registry; under
gunicorn with several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``tracklists serve``)
makes ``/metrics`` report the sum over all workers instead of whichever worker answered.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from api.extensions import SETTINGS_KEY
from api.metrics_state import ServiceState
from config.settings import Settings

bp = Blueprint("metrics", __name__)
_REGISTRY_KEY = "tracklists.metrics"


class Metrics:
    """The API's own series, registered in one app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "tracklists_http_requests",
            "HTTP requests answered, by method, route and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "tracklists_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route.",
            ("method", "route"),
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # Series by (method, route, status): few, and labels() is a lock and a validation
        # per call, on every request.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)


def init_app(app: Flask) -> None:
    """Time every request and serve ``/metrics`` when ``TRACKLIST_METRICS_ENABLED``."""
    config: Settings = app.extensions[SETTINGS_KEY]
    if not config.metrics_enabled:
        return
    registry = CollectorRegistry(auto_describe=True)
    registry.register(ServiceState())
    app.extensions[_REGISTRY_KEY] = Metrics(registry)
    app.before_request(_start_timer)
    app.after_request(_record)
    app.register_blueprint(bp)


def current_metrics() -> Metrics:
    """The current app's metrics (for endpoints that add their own series to the registry)."""
    metrics: Metrics = current_app.extensions[_REGISTRY_KEY]
    return metrics


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _record(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule
        current_metrics().observe(
            request.method,
            rule.rule if rule is not None else "<unmatched>",
            response.status_code,
            time.perf_counter() - started,
        )
    return response


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus text exposition."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        # Counters come from every worker's files; state gauges are read now, by this one.
        registry.register(ServiceState())
    else:
        registry = current_metrics().registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

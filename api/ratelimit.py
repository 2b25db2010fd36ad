"""Rate limits (flask-limiter): per client IP without a token, per user with one.

One application-wide limit covers every route except ``/health`` and ``/metrics``:
``TRACKLIST_API_RATE_LIMIT_ANONYMOUS`` for requests without a valid access token (counted per
IP address), ``TRACKLIST_API_RATE_LIMIT_AUTHENTICATED`` for requests with one (counted per
user, wherever they come from). ``POST /auth/token`` also has its own, smaller per-IP limit
against password guessing. Over a limit: 429 problem+json with ``Retry-After`` (the only
rate-limit header sent).

The client IP is the TCP peer unless ``TRACKLIST_API_TRUSTED_PROXIES`` says how many proxies
set ``X-Forwarded-For`` (ProxyFix in :func:`api.create_app`), so a forged header gains nothing.
Counters live in Redis, shared by every worker; without Redis (embedded mode, or Redis
failing later) each process counts for itself.

``Retry-After`` is set here, rounded up (:func:`retry_after_seconds`): flask-limiter's own
value (its headers are off) floors a window end that Redis rounds to the nearest second, so it
could say 0 or end before the window does, and a client that waited it was refused again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import Limiter
from jwt import PyJWTError

from api.extensions import SETTINGS_KEY, redis_store, settings
from store.config import Settings

log = logging.getLogger(__name__)

# Monitoring must never be throttled.
EXEMPT_ENDPOINTS = frozenset({"health.health", "metrics.metrics"})
LOGIN_ENDPOINT = "auth.issue_token"


def token_subject() -> str | None:
    """The user id of a valid access token on this request, else ``None`` (cached per request).

    Only signature, expiry and issuer are checked here: rate limiting runs before the view,
    and a revoked token still counts against its user and is refused by the view.
    """
    if "rate_limit_subject" not in g:
        subject = None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                claims = decode_token(token.strip())
            except (PyJWTError, JWTExtendedException):
                claims = {}
            if claims.get("type") == "access" and isinstance(claims.get("sub"), str):
                subject = claims["sub"]
        g.rate_limit_subject = subject
    value: str | None = g.rate_limit_subject
    return value


def client_key() -> str:
    """The rate-limit bucket: ``user:<id>`` with a valid token, else ``ip:<address>``."""
    subject = token_subject()
    return f"user:{subject}" if subject is not None else f"ip:{request.remote_addr or '?'}"


def ip_key() -> str:
    """The bucket of the client's address, token or not (the login limit)."""
    return f"ip:{request.remote_addr or '?'}"


def retry_after_seconds(window_reset: float, now: float, window_seconds: int) -> int:
    """Whole seconds until a window that flask-limiter says ends at ``window_reset`` has ended.

    The Redis storage derives ``window_reset`` from ``TTL``, which Redis rounds to the nearest
    second: the window may really end up to half a second later. Rounding that up makes the
    answer safe to wait for, and a 429 never says "retry after 0 seconds"; no window outlasts
    its length (``window_seconds``), which bounds the rounding from above.
    """
    return max(1, min(window_seconds, math.ceil(window_reset + 0.5 - now)))


def _application_limit() -> str:
    config = settings()
    if token_subject() is not None:
        return config.api_rate_limit_authenticated
    return config.api_rate_limit_anonymous


def _login_limit() -> str:
    return settings().api_rate_limit_login


def init_app(app: Flask) -> Limiter:
    """Create the app's limiter (one per app: flask-limiter keeps its storage per instance)."""
    config: Settings = app.extensions[SETTINGS_KEY]
    with app.app_context():
        redis_available = redis_store.client is not None
    storage_uri = config.effective_redis_url if redis_available else "memory://"
    limiter = Limiter(
        key_func=client_key,
        application_limits=[_application_limit],
        storage_uri=storage_uri,
        storage_options=(
            {"key_prefix": f"{config.cache_key_prefix}limits", "socket_connect_timeout": 1}
            if redis_available
            else {}
        ),
        strategy="fixed-window",
        # No X-RateLimit-* headers: flask-limiter reads them back from Redis with two more
        # round trips per request (profiled: 30% of a cached response's time). A refused
        # request still gets Retry-After (below).
        headers_enabled=False,
        # Redis failing after start-up: keep limiting per process rather than erroring, and a
        # hit that was in flight when the connection broke lets its request through (logged)
        # instead of answering 500.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.request_filter(lambda: request.endpoint in EXEMPT_ENDPOINTS)
    # The limiter's own headers are off: this hook gives a refusal its Retry-After.
    app.after_request(lambda response: _round_up_retry_after(limiter, response))
    limiter.init_app(app)
    login_view: Callable[..., Any] | None = app.view_functions.get(LOGIN_ENDPOINT)
    if login_view is not None:
        # flask-limiter checks decorated limits inside the wrapper it returns, so the
        # wrapped view replaces the registered one.
        limited: Callable[..., Any] = limiter.limit(_login_limit, key_func=ip_key)(login_view)
        app.view_functions[LOGIN_ENDPOINT] = limited
    return limiter


def _round_up_retry_after(limiter: Limiter, response: Response) -> Response:
    limit = limiter.current_limit
    if response.status_code != 429 or limit is None or not limit.breached:
        return response
    window_seconds = limit.limit.get_expiry()
    try:
        seconds = retry_after_seconds(limit.window.reset_time, time.time(), window_seconds)
    except Exception:  # the storage failed since the limit was checked: a whole window is safe
        log.warning("rate-limit window unavailable; Retry-After is the window", exc_info=True)
        seconds = window_seconds
    response.headers["Retry-After"] = str(seconds)
    return response

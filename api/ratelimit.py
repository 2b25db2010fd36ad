"""Rate limits: per client IP without a token, per user with one, and a login limit.

One application-wide limit covers every route except ``/health`` and ``/metrics``:
``TRACKLIST_API_RATE_LIMIT_ANONYMOUS`` for requests without a valid access token (counted per
IP address), ``TRACKLIST_API_RATE_LIMIT_AUTHENTICATED`` for requests with one (counted per
user, wherever they come from). ``POST /auth/token`` also has its own, smaller per-IP limit
against password guessing (``TRACKLIST_API_RATE_LIMIT_LOGIN``). Over a limit: 429
problem+json with ``Retry-After``, rounded up so that waiting it is always enough.

Login is also slowed per account, over every address (:mod:`store.login_delays`): after
``TRACKLIST_API_LOGIN_FAILURES_BEFORE_DELAY`` failed passwords in a row, each further failure
makes the account's next attempt wait 1, 2, 4... seconds (up to
``TRACKLIST_API_LOGIN_DELAY_MAX_SECONDS``), answered with 429 and ``Retry-After``; a success
resets it. A delay, never a lockout: guesses spread over many addresses are slowed, the user's
right password works once the wait is over.

The client IP is the TCP peer unless ``TRACKLIST_API_TRUSTED_PROXIES`` says how many proxies
set ``X-Forwarded-For`` (ProxyFix in :func:`api.create_app`), so a forged header gains nothing.
Counters live in Redis, shared by every worker; without Redis (embedded mode, or Redis
failing later) each process counts for itself (:mod:`store.rate_counters`). Limits of 200 or
more per window are counted in leases (:mod:`store.rate_leases`): never more than the limit,
at the cost of a client spread over many workers being refused up to a percent of it early
per worker.

Why one ``before_request`` over the ``limits`` library rather than flask-limiter's extension:
profiled on a cached ``GET /tracklist/{id}``, flask-limiter's per-request machinery (callable
limits, exemption scopes, request context bookkeeping) was 44% of the app's time, and its
Retry-After was floored from a TTL Redis rounds. The windows are the same fixed windows; the
``limits`` library still parses the settings and counts in memory when Redis is away.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, current_app, g, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from api.extensions import SETTINGS_KEY, redis_store
from config.settings import Settings
from store.login_delays import LoginDelays
from store.rate_counters import RateCounters, Refusal

# Monitoring must never be throttled.
EXEMPT_ENDPOINTS = frozenset({"health.health", "metrics.metrics"})
LOGIN_ENDPOINT = "auth.issue_token"
_COUNTERS_KEY = "tracklists.rate_counters"
_DELAYS_KEY = "tracklists.login_delays"
ACCOUNT_LIMIT = "failed logins for this account"


def token_subject() -> str | None:
    """The user id of a valid access token on this request, else ``None`` (cached per request).

    Only signature, expiry and issuer are checked here: rate limiting runs before the view,
    and a revoked token still counts against its user and is refused by the view.
    """
    header = request.headers.get("Authorization")
    if not header:  # most reads: nothing to decode or remember
        return None
    if "rate_limit_subject" not in g:
        subject = None
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


def ip_key() -> str:
    """The bucket of the client's address, token or not (the login limit)."""
    return f"ip:{request.remote_addr or '?'}"


@lru_cache(maxsize=16)
def parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """``"10/second;1000/day"`` as limit items, shortest window first (validated settings)."""
    return tuple(sorted(parse_many(limits), key=lambda item: item.get_expiry()))


def init_app(app: Flask) -> None:
    """Count this app's requests against its limits, in the app's Redis when it answered."""
    config: Settings = app.extensions[SETTINGS_KEY]
    with app.app_context():
        client = redis_store.client
    app.extensions[_COUNTERS_KEY] = RateCounters(
        client, key_prefix=f"{config.cache_key_prefix}limits"
    )
    app.extensions[_DELAYS_KEY] = LoginDelays(
        client,
        f"{config.cache_key_prefix}login:",
        free_failures=config.api_login_failures_before_delay,
        max_seconds=config.api_login_delay_max_seconds,
    )
    app.before_request(check_limits)


def check_account(username: str) -> None:
    """Raise 429 (with ``Retry-After``) while ``username`` must wait after failed logins."""
    wait = _delays().wait_seconds(username)
    if wait > 0:
        raise TooManyRequests(description=ACCOUNT_LIMIT, retry_after=wait)


def login_failed(username: str) -> None:
    """Count a wrong password for ``username`` (it may make the next attempt wait)."""
    _delays().failed(username)


def login_succeeded(username: str) -> None:
    """End ``username``'s run of failed logins."""
    _delays().succeeded(username)


def _delays() -> LoginDelays:
    delays: LoginDelays = current_app.extensions[_DELAYS_KEY]
    return delays


def check_limits() -> None:
    """Count this request; raise 429 (with ``Retry-After``) when it goes over a limit.

    The bucket is ``user:<id>`` with a valid access token, else ``ip:<address>``.
    """
    endpoint = request.endpoint
    if endpoint in EXEMPT_ENDPOINTS:
        return
    extensions = current_app.extensions
    config: Settings = extensions[SETTINGS_KEY]
    counters: RateCounters = extensions[_COUNTERS_KEY]
    if endpoint == LOGIN_ENDPOINT:
        _refuse(counters.hit(parsed(config.api_rate_limit_login), "login", ip_key()))
    subject = token_subject()
    if subject is None:
        limits, bucket = config.api_rate_limit_anonymous, ip_key()
    else:
        limits, bucket = config.api_rate_limit_authenticated, f"user:{subject}"
    _refuse(counters.hit(parsed(limits), "app", bucket))


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        # errors.handle_http_exception renders it as problem+json, keeping Retry-After.
        raise TooManyRequests(description=str(refusal.limit), retry_after=refusal.retry_after)

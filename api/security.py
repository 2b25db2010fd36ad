"""JWT authentication and role checks: the decorators every protected endpoint uses.

Tokens come from ``POST {prefix}/auth/token``; the subject is the user id as a string and the
role (``reader`` < ``editor`` < ``admin``) an additional claim. Access tokens also carry
``rjti``, the id of the refresh token issued with them, so logging out revokes both, and a
revoked refresh token takes every access token derived from it along.

Use on views, directly under ``@blp.route`` so the check runs before input parsing::

    @blp.route("/stats")
    @require_role("admin")
    @blp.response(200, StatsSchema)
    def stats(): ...

Every failure (no token, malformed, wrong signature or algorithm, expired, revoked, refresh
token used as access token) answers 401 problem+json; a valid token with too low a role 403.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import redis
from flask import Flask, Response, current_app
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from api.errors import ApiProblem, problem_response
from api.extensions import SETTINGS_KEY, jwt, redis_store
from config.settings import ConfigError, Settings
from store.models import ROLES

logger = logging.getLogger(__name__)

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
ISSUER = "tracklist-service"
# Documented on every protected operation of the OpenAPI description.
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

P = ParamSpec("P")
R = TypeVar("R")


def require_role(role: str = "reader") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid, unrevoked access token whose role is at least ``role``."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")
    needed = ROLE_RANK[role]

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_jwt_in_request()
            granted = get_jwt().get("role")
            if ROLE_RANK.get(granted if isinstance(granted, str) else "", 0) < needed:
                raise ApiProblem(403, f"this needs the {role} role", kind="forbidden")
            return view(*args, **kwargs)

        _mark(wrapper, f"role:{role}")
        return wrapper

    return decorator


def require_refresh(view: Callable[P, R]) -> Callable[P, R]:
    """Require a valid, unrevoked refresh token (``POST /auth/refresh``)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        verify_jwt_in_request(refresh=True)
        return view(*args, **kwargs)

    _mark(wrapper, "refresh")
    return wrapper


def access_rule(view: Callable[..., Any]) -> str | None:
    """What a view requires: ``"role:<role>"``, ``"refresh"`` or ``None`` (nothing declared)."""
    rule = getattr(view, "access_rule", None)
    return rule if isinstance(rule, str) else None


def _mark(wrapper: Callable[..., Any], rule: str) -> None:
    # The marker lets tests and tools list what each route needs (tests/api/test_auth_matrix.py);
    # the _apidoc entry is flask-smorest's, so the OpenAPI operation shows the bearer scheme.
    wrapper.access_rule = rule  # type: ignore[attr-defined]
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["security"] = [{"bearerAuth": []}]
    responses = manual.setdefault("responses", {})
    responses.setdefault(401, "UNAUTHORIZED")
    if rule.startswith("role:"):
        responses.setdefault(403, "FORBIDDEN")
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]


def jwt_secret(config: Settings) -> str:
    """The signing secret: required in production, random per process otherwise."""
    if config.jwt_secret:
        return config.jwt_secret
    if config.environment == "production":
        raise ConfigError(
            "TRACKLIST_JWT_SECRET is required when TRACKLIST_ENVIRONMENT=production "
            "(generate one with: openssl rand -hex 32)"
        )
    logger.warning(
        "TRACKLIST_JWT_SECRET is not set: using a random secret for this process; tokens "
        "will not survive a restart nor work across workers"
    )
    return secrets.token_urlsafe(48)


def init_app(app: Flask) -> None:
    """Configure flask-jwt-extended for the app and route all its errors to problem+json."""
    config: Settings = app.extensions[SETTINGS_KEY]
    app.config.update(
        JWT_SECRET_KEY=jwt_secret(config),
        JWT_ALGORITHM="HS256",
        # Only HS256 is accepted: "alg": "none" and algorithm-confusion tokens fail to decode.
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=config.jwt_access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=config.jwt_refresh_token_days),
    )
    jwt.init_app(app)
    app.extensions["tracklists.blocklist"] = _MemoryBlocklist()


def revoke(jti: str, expires_at: float) -> None:
    """Put a token id on the blocklist until the token would have expired anyway."""
    ttl = max(1, int(expires_at - time.time()) + 1)
    client = redis_store.client
    if client is None:
        _memory_blocklist().add(jti, ttl)
        return
    try:
        client.set(redis_store.key("jwt", "revoked", jti), "1", ex=ttl)
    except redis.RedisError as exc:
        raise _unavailable(exc) from None


def is_revoked(*jtis: str) -> bool:
    """True when any of these token ids is on the blocklist."""
    client = redis_store.client
    if client is None:
        return any(_memory_blocklist().contains(jti) for jti in jtis)
    try:
        found = client.exists(*(redis_store.key("jwt", "revoked", jti) for jti in jtis))
    except redis.RedisError as exc:
        # Failing open would accept revoked tokens while Redis is down; refuse instead.
        raise _unavailable(exc) from None
    return bool(found)


def _unavailable(exc: Exception) -> ApiProblem:
    logger.error("token blocklist unavailable: %s", exc)
    return ApiProblem(503, "the token blocklist is unavailable; try again shortly")


def _memory_blocklist() -> _MemoryBlocklist:
    blocklist: _MemoryBlocklist = current_app.extensions["tracklists.blocklist"]
    return blocklist


class _MemoryBlocklist:
    """The blocklist of one process, used only when Redis is unreachable (embedded mode)."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, jti: str, ttl: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._expiry = {key: at for key, at in self._expiry.items() if at > now}
            self._expiry[jti] = now + ttl

    def contains(self, jti: str) -> bool:
        with self._lock:
            return self._expiry.get(jti, 0.0) > time.monotonic()


@jwt.token_in_blocklist_loader
def _token_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    jtis = [str(payload["jti"])]
    if isinstance(payload.get("rjti"), str):
        jtis.append(payload["rjti"])
    return is_revoked(*jtis)


@jwt.unauthorized_loader
def _missing_token(reason: str) -> Response:
    return problem_response(
        401, f"a bearer token is required ({reason})", kind="unauthorized", headers=_challenge()
    )


@jwt.invalid_token_loader
def _invalid_token(reason: str) -> Response:
    # flask-jwt-extended answers 422 here by default; a bad token is an authentication failure.
    return problem_response(
        401, f"the token is invalid ({reason})", kind="invalid-token", headers=_challenge()
    )


@jwt.expired_token_loader
def _expired_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return problem_response(
        401, "the token has expired", kind="expired-token", headers=_challenge()
    )


@jwt.revoked_token_loader
def _revoked_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return problem_response(
        401, "the token has been revoked", kind="revoked-token", headers=_challenge()
    )


@jwt.needs_fresh_token_loader
def _needs_fresh_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return problem_response(401, "a fresh token is required", kind="invalid-token")


@jwt.token_verification_failed_loader
def _verification_failed(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return problem_response(401, "the token's claims were refused", kind="invalid-token")


@jwt.user_lookup_error_loader
def _user_lookup_failed(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return problem_response(401, "the token's user no longer exists", kind="invalid-token")


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="tracklists"'}

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

A signed token must also still *stand* (:mod:`service.token_standing`): not logged out, its API
key (claim ``key``, tokens minted from a key) not revoked, its user active. The database holds
those facts; Redis caches them (one ``MGET`` per request), and the changes publish their new
answer there at once. The role a request gets is the lower of the token's and the user's
current one: a demotion applies at once, a promotion at the next refresh.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import redis
from flask import Flask, Response, current_app, g
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy.exc import IntegrityError, OperationalError

from api.errors import ApiProblem, problem_response
from api.extensions import SETTINGS_KEY, db, jwt, redis_store
from config.settings import ConfigError, Settings
from service.token_standing import TokenFacts, standing
from store.auth_states import AuthStates, forget_legacy, legacy_revocations
from store.models import ROLES, utcnow
from store.revocations import revoke_tokens

logger = logging.getLogger(__name__)

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
ISSUER = "tracklist-service"
# Documented on every protected operation of the OpenAPI description.
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
_STATES_KEY = "tracklists.auth_states"

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
            if ROLE_RANK.get(current_role(), 0) < needed:
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


def current_role() -> str:
    """The role of this request: the lower of its access token's and the user's current one."""
    claimed = get_jwt().get("role")
    granted = claimed if isinstance(claimed, str) and claimed in ROLE_RANK else ""
    current: str | None = g.get("token_user_role")
    if current in ROLE_RANK and ROLE_RANK[current] < ROLE_RANK.get(granted, 0):
        return current
    return granted


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
    with app.app_context():
        client = redis_store.client
    app.extensions[_STATES_KEY] = AuthStates(
        client, f"{config.cache_key_prefix}auth:", config.auth_cache_seconds
    )
    if client is not None:
        with app.app_context():
            _adopt_legacy_blocklist(client, config.cache_key_prefix)


def _adopt_legacy_blocklist(client: redis.Redis, key_prefix: str) -> None:
    """Move logouts of the former Redis-only blocklist into ``revoked_tokens`` (upgrades).

    Every worker tries at start; one commits, the others find the rows there or collide and
    leave it to it. Until it has run, those tokens would be accepted again.
    """
    try:
        found = legacy_revocations(client, key_prefix)
        if not found:
            return
        now = utcnow()
        revoke_tokens(db.session, {jti: now + timedelta(seconds=ttl) for jti, ttl in found.items()})
        db.session.commit()
        forget_legacy(client, key_prefix, list(found))
        logger.info("moved %d revoked token ids from Redis into the database", len(found))
    except IntegrityError:
        db.session.rollback()  # another worker moved them at the same moment
    except (redis.RedisError, OperationalError) as exc:
        logger.warning("could not move the former token blocklist into the database: %s", exc)


def auth_states() -> AuthStates:
    """The current app's cache of token standings (publish changes to it after commit)."""
    states: AuthStates = current_app.extensions[_STATES_KEY]
    return states


@jwt.token_in_blocklist_loader
def _token_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    # Called by flask-jwt-extended for every access and refresh token it verifies.
    jtis = [str(payload["jti"])]
    if isinstance(payload.get("rjti"), str):
        jtis.append(payload["rjti"])
    key = payload.get("key")
    try:
        user_id = int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        g.auth_refusal = "the token names no user"
        g.auth_refusal_kind = "invalid-token"
        return True
    facts = TokenFacts(user_id, tuple(jtis), key if isinstance(key, str) else None)
    verdict = standing(lambda: db.session, auth_states(), facts)
    if verdict.refusal is not None:
        g.auth_refusal = verdict.refusal
        g.auth_refusal_kind = "revoked-token" if verdict.revoked else "invalid-token"
        return True
    g.token_user_role = verdict.role
    return False


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
    detail = g.get("auth_refusal") or "the token has been revoked"
    kind = g.get("auth_refusal_kind") or "revoked-token"
    return problem_response(401, detail, kind=kind, headers=_challenge())


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

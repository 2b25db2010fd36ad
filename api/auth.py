"""``{prefix}/auth``: exchange credentials for tokens, refresh, log out, who am I.

Tokens minted from an API key carry its prefix (claim ``key``), and so do the access tokens
refreshed from them: revoking the key refuses them all (:mod:`api.security`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jwt

from api import ratelimit
from api.errors import ApiProblem
from api.extensions import db, settings
from api.openapi import Blueprint
from api.security import auth_states, current_role, require_refresh, require_role
from service.accounts import api_key_prefix, authenticate_api_key, authenticate_password
from service.token_standing import logout as revoke_tokens
from store.models import User

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, description="Tokens: log in with a password or an API key.")


class TokenRequestSchema(ma.Schema):
    """Either ``username`` and ``password``, or ``api_key``."""

    username = ma.fields.String(validate=ma.validate.Length(min=1, max=150))
    password = ma.fields.String(validate=ma.validate.Length(min=1, max=1024), load_only=True)
    api_key = ma.fields.String(validate=ma.validate.Length(min=1, max=200), load_only=True)

    @ma.validates_schema
    def _one_method(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "api_key" in data:
            if "username" in data or "password" in data:
                raise ma.ValidationError("give either api_key or username and password", "api_key")
            return
        for field in ("username", "password"):
            if field not in data:
                raise ma.ValidationError("required unless api_key is given", field)


class TokenSchema(ma.Schema):
    """A token pair (refresh omitted when refreshing)."""

    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    role = ma.fields.String(required=True)


class IdentitySchema(ma.Schema):
    """The authenticated user, as the token says."""

    user_id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)
    role = ma.fields.String(required=True)


@bp.route("/token", methods=["POST"], endpoint="issue_token")
@bp.arguments(TokenRequestSchema())
@bp.response(200, TokenSchema)
@bp.alt_response(401, description="Wrong credentials")
@bp.alt_response(429, description="Too many attempts")
def issue_token(credentials: dict[str, str]) -> dict[str, Any]:
    """Log in: username and password, or an API key → access and refresh tokens."""
    session = db.session
    key_prefix = None
    if "api_key" in credentials:
        user = authenticate_api_key(session, credentials["api_key"])
        key_prefix = api_key_prefix(credentials["api_key"])
        failure = "the API key is unknown or revoked"
    else:
        username = credentials["username"]
        ratelimit.check_account(username)
        user = authenticate_password(session, username, credentials["password"])
        if user is None:
            ratelimit.login_failed(username)
        else:
            ratelimit.login_succeeded(username)
        failure = "wrong user name or password"
    if user is None:
        raise ApiProblem(401, failure, kind="invalid-credentials")
    session.commit()  # the API key's last_used_at
    claims = _claims(user, key_prefix)
    refresh_token = create_refresh_token(str(user.id), additional_claims=claims)
    refresh_jti = decode_token(refresh_token)["jti"]
    return {
        **_access(user, refresh_jti, key_prefix),
        "refresh_token": refresh_token,
    }


@bp.route("/refresh", methods=["POST"])
@require_refresh
@bp.response(200, TokenSchema)
def refresh() -> dict[str, Any]:
    """A new access token for a refresh token; the role is read again from the store."""
    claims = get_jwt()
    user = db.session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise ApiProblem(401, "the user no longer exists or is disabled", kind="invalid-token")
    key = claims.get("key")
    return _access(user, str(claims["jti"]), key if isinstance(key, str) else None)


@bp.route("/logout", methods=["POST"])
@require_role("reader")
@bp.response(204)
def logout() -> None:
    """Revoke this access token and the refresh token issued with it."""
    claims = get_jwt()
    expiries = {str(claims["jti"]): _moment(float(claims["exp"]))}
    if isinstance(claims.get("rjti"), str):
        # The refresh token's own expiry is not in the access token; its lifetime bounds it.
        expiries[claims["rjti"]] = _moment(float(claims["iat"]) + _refresh_seconds())
    changes = revoke_tokens(db.session, expiries)
    db.session.commit()
    if not auth_states().publish(changes):
        # Recorded in the database, which a cache miss reads; only an entry cached before
        # this logout can still answer, for at most TRACKLIST_AUTH_CACHE_SECONDS.
        logger.warning("logout recorded, but Redis could not be told")


@bp.route("/whoami", methods=["GET"])
@require_role("reader")
@bp.response(200, IdentitySchema)
def whoami() -> dict[str, Any]:
    """The user the presented access token stands for, and the role it has now."""
    claims = get_jwt()
    return {"user_id": claims["sub"], "username": claims.get("name", ""), "role": current_role()}


def _claims(user: User, key_prefix: str | None) -> dict[str, Any]:
    claims: dict[str, Any] = {"role": user.role, "name": user.username}
    if key_prefix is not None:
        claims["key"] = key_prefix
    return claims


def _access(user: User, refresh_jti: str, key_prefix: str | None) -> dict[str, Any]:
    token = create_access_token(
        str(user.id), additional_claims={**_claims(user, key_prefix), "rjti": refresh_jti}
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings().jwt_access_token_minutes * 60,
        "role": user.role,
    }


def _moment(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)


def _refresh_seconds() -> int:
    return settings().jwt_refresh_token_days * 86400

"""``{prefix}/auth``: exchange credentials for tokens, refresh, log out, who am I."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jwt

from api.errors import ApiProblem
from api.extensions import db, settings
from api.openapi import Blueprint
from api.security import require_refresh, require_role, revoke
from service.accounts import authenticate_api_key, authenticate_password
from store.models import User

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
    if "api_key" in credentials:
        user = authenticate_api_key(session, credentials["api_key"])
        failure = "the API key is unknown or revoked"
    else:
        user = authenticate_password(session, credentials["username"], credentials["password"])
        failure = "wrong user name or password"
    if user is None:
        raise ApiProblem(401, failure, kind="invalid-credentials")
    session.commit()  # the API key's last_used_at
    refresh_token = create_refresh_token(str(user.id), additional_claims=_claims(user))
    refresh_jti = decode_token(refresh_token)["jti"]
    return {
        **_access(user, refresh_jti),
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
    return _access(user, str(claims["jti"]))


@bp.route("/logout", methods=["POST"])
@require_role("reader")
@bp.response(204)
def logout() -> None:
    """Revoke this access token and the refresh token issued with it."""
    claims = get_jwt()
    revoke(str(claims["jti"]), float(claims["exp"]))
    if isinstance(claims.get("rjti"), str):
        # The refresh token's own expiry is not in the access token; its lifetime bounds it.
        revoke(claims["rjti"], float(claims["iat"]) + _refresh_seconds())


@bp.route("/whoami", methods=["GET"])
@require_role("reader")
@bp.response(200, IdentitySchema)
def whoami() -> dict[str, Any]:
    """The user and role the presented access token stands for."""
    claims = get_jwt()
    return {"user_id": claims["sub"], "username": claims.get("name", ""), "role": claims["role"]}


def _claims(user: User) -> dict[str, Any]:
    return {"role": user.role, "name": user.username}


def _access(user: User, refresh_jti: str) -> dict[str, Any]:
    token = create_access_token(
        str(user.id), additional_claims={**_claims(user), "rjti": refresh_jti}
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings().jwt_access_token_minutes * 60,
        "role": user.role,
    }


def _refresh_seconds() -> int:
    return settings().jwt_refresh_token_days * 86400

"""Every route of the app, walked from ``app.url_map``, refuses every kind of bad token.

Routes are public only when listed in PUBLIC_ROUTES; every other route must declare what it
needs (``@require_role(...)`` or ``@require_refresh``) and must answer 401 to a missing,
expired, wrongly signed, ``alg: none`` or wrong-type token and 403 to too low a role.
Endpoints added later are covered without touching this file.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from api_helpers import bearer
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token
from werkzeug.routing import Rule

from api.security import ROLE_RANK, access_rule

# endpoint name -> why it needs no token. Anything else must be protected.
PUBLIC_ROUTES = {
    "health.health": "liveness probe",
    "metrics.metrics": "Prometheus scrape",
    "api-docs.openapi_json": "the OpenAPI document",
    "api-docs.openapi_swagger_ui": "the docs page",
    "swagger_ui_assets.static": "the docs page's Swagger UI files",
    "auth.issue_token": "log in",
    "search.search": "reads of public data (rate-limited per IP)",
    "search.by_dj": "reads of public data",
    "search.by_event": "reads of public data",
    "tracklists.get_tracklist": "reads of public data",
    "tracklists.crawl_status": "correlation ids are random UUIDs only their requester knows",
    "cue.get_cue": "CUE file ids are random UUIDs handed to whoever generated them",
    "cue.formats": "the list of output formats",
}
# A plausible value per URL converter, so every rule can be built into a path.
_SAMPLE_ARGUMENTS: dict[str, Any] = {
    "IntegerConverter": 1,
    "FloatConverter": 1.0,
    "UUIDConverter": uuid.UUID(int=1),
    "PathConverter": "x/y",
}
_IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _sample_path(rule: Rule) -> str:
    values = {
        name: _SAMPLE_ARGUMENTS.get(type(converter).__name__, "x")
        for name, converter in rule._converters.items()
    }
    built = rule.build(values)
    assert built is not None, rule.rule
    return built[1]


def _protected_routes(app: Flask) -> Iterator[tuple[str, str, str, str]]:
    """(endpoint, method, sample path, access rule) for every non-public route and method."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ROUTES:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - _IGNORED_METHODS):
            declared = _declared_rule(view, method)
            yield rule.endpoint, method, _sample_path(rule), declared or "undeclared"


def _declared_rule(view: Any, method: str) -> str | None:
    """The view's access rule; for class-based views, that of the method's handler."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        return access_rule(handler) if handler is not None else None
    return access_rule(view)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Tokens:
    """Tokens of every kind for the app under test, all for one real user."""

    def __init__(self, app: Flask, subject: str) -> None:
        self.app = app
        self.subject = subject

    def _claims(self, role: str) -> dict[str, Any]:
        return {"role": role, "name": "matrix"}

    def valid(self, role: str, *, refresh: bool = False) -> str:
        with self.app.app_context():
            if refresh:
                return create_refresh_token(self.subject, additional_claims=self._claims(role))
            return create_access_token(self.subject, additional_claims=self._claims(role))

    def expired(self, role: str) -> str:
        with self.app.app_context():
            return create_access_token(
                self.subject,
                additional_claims=self._claims(role),
                expires_delta=timedelta(seconds=-60),
            )

    def wrong_key(self, role: str) -> str:
        claims = pyjwt.decode(
            self.valid(role), options={"verify_signature": False}, algorithms=["HS256"]
        )
        return pyjwt.encode(claims, "another-secret-" + "x" * 40, algorithm="HS256")

    def alg_none(self, role: str) -> str:
        claims = pyjwt.decode(
            self.valid(role), options={"verify_signature": False}, algorithms=["HS256"]
        )
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    def wrong_alg(self, role: str) -> str:
        claims = pyjwt.decode(
            self.valid(role), options={"verify_signature": False}, algorithms=["HS256"]
        )
        return pyjwt.encode(claims, self.app.config["JWT_SECRET_KEY"], algorithm="HS512")


def _rank_below(required: str) -> str:
    """A role too low for ``required`` (an unknown role for the lowest one)."""
    lower = [role for role, rank in ROLE_RANK.items() if rank < ROLE_RANK[required]]
    return lower[-1] if lower else "guest"


def _call(client: FlaskClient, method: str, path: str, token: str | None) -> Any:
    headers = bearer(token) if token is not None else {}
    return client.open(path, method=method, headers=headers, json={})


def test_every_route_is_public_or_declares_its_access(app: Flask) -> None:
    undeclared = [
        f"{method} {path} ({endpoint})"
        for endpoint, method, path, declared in _protected_routes(app)
        if declared == "undeclared"
    ]
    assert not undeclared, "routes without @require_role/@require_refresh: " + ", ".join(undeclared)
    stale = set(PUBLIC_ROUTES) - {rule.endpoint for rule in app.url_map.iter_rules()}
    assert stale <= {"api-docs.openapi_swagger_ui", "swagger_ui_assets.static"}, stale


def test_the_walk_sees_the_protected_routes(app: Flask) -> None:
    seen = {(endpoint, declared) for endpoint, _method, _path, declared in _protected_routes(app)}
    assert {
        ("admin.stats", "role:admin"),
        ("admin.clear_cache", "role:admin"),
        ("admin.component_health", "role:admin"),
        ("auth.refresh", "refresh"),
        ("auth.logout", "role:reader"),
        ("auth.whoami", "role:reader"),
        ("tracklists.request_tracklist", "role:reader"),
        ("tracklists.clear_cache", "role:editor"),
        ("cue.generate", "role:reader"),
        ("batch.crawl_batch", "role:reader"),
        ("batch.cue_batch", "role:reader"),
        ("batch.list_jobs", "role:reader"),
        ("batch.get_batch", "role:reader"),
        ("batch.download", "role:reader"),
    } <= seen


def test_every_protected_route_rejects_bad_tokens(
    app: Flask, client: FlaskClient, login: Callable[[str], dict[str, Any]]
) -> None:
    access = login("admin")["access_token"]
    tokens = Tokens(app, client.get("/api/v1/auth/whoami", headers=bearer(access)).json["user_id"])
    failures: list[str] = []
    checked = 0
    for _endpoint, method, path, declared in _protected_routes(app):
        if declared == "refresh":
            required = "reader"
            bad = {
                "no token": None,
                "access as refresh": tokens.valid("admin"),
                "expired": tokens.expired("admin"),
                "wrong key": tokens.wrong_key("admin"),
                "alg none": tokens.alg_none("admin"),
                "wrong alg": tokens.wrong_alg("admin"),
                "garbage": "not.a.token",
            }
            wrong_role = None
        else:
            required = declared.removeprefix("role:")
            bad = {
                "no token": None,
                "refresh as access": tokens.valid("admin", refresh=True),
                "expired": tokens.expired(required),
                "wrong key": tokens.wrong_key(required),
                "alg none": tokens.alg_none(required),
                "wrong alg": tokens.wrong_alg(required),
                "garbage": "not.a.token",
            }
            wrong_role = tokens.valid(_rank_below(required))
        for case, token in bad.items():
            response = _call(client, method, path, token)
            checked += 1
            if response.status_code != 401 or response.mimetype != "application/problem+json":
                failures.append(f"{method} {path} [{case}]: {response.status_code}")
        if wrong_role is not None:
            response = _call(client, method, path, wrong_role)
            checked += 1
            if response.status_code != 403 or response.mimetype != "application/problem+json":
                failures.append(f"{method} {path} [role below {required}]: {response.status_code}")
        # The right token gets past authentication (whatever the endpoint then says).
        good = tokens.valid(required, refresh=declared == "refresh")
        response = _call(client, method, path, good)
        if response.status_code in (401, 403):
            failures.append(f"{method} {path} [valid {declared}]: {response.status_code}")
    assert checked >= 5 * 8
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("endpoint", sorted(PUBLIC_ROUTES))
def test_public_routes_are_reachable_without_a_token(
    app: Flask, client: FlaskClient, endpoint: str
) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    if not rules:
        pytest.skip(f"{endpoint} has nothing to serve in this configuration")
    rule = rules[0]
    method = "POST" if "POST" in (rule.methods or set()) else "GET"
    response = client.open(_sample_path(rule), method=method, json={})
    assert response.status_code not in (401, 403)


def test_the_walk_flags_a_route_added_without_protection(app: Flask) -> None:
    app.add_url_rule("/api/v1/leak", "leak", lambda: "secret")
    assert ("leak", "GET", "/api/v1/leak", "undeclared") in set(_protected_routes(app))

"""Every error is application/problem+json with a stable type, never HTML or a stack trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import bearer
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.errors import PROBLEM_TYPES, ApiProblem, field_error
from config.settings import Settings

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, slug: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.json
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == response.request.path
    if slug is not None:
        assert body["type"] == f"urn:tracklists:problem:{slug}"
    return body


def test_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


def test_405_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.delete("/health")
    body = assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]
    assert body["detail"].startswith("DELETE is not allowed on /health; allowed: GET")


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/v1/no-such-thing", "no route matches /api/v1/no-such-thing"),
        ("/no/such/thing", "no route matches /no/such/thing"),
        ("/api/v1/tracklist/1", "tracklist_id must be a UUID, not '1'"),
        ("/api/v1/cue/not-a-uuid", "cue_id must be a UUID, not 'not-a-uuid'"),
        (
            "/api/v1/tracklist/6d1f3d56-7ad6-4c5f-9b39-2a1f0c9e4b11/versions/0",
            "version must be a whole number in range, not '0'",
        ),
        ("/api/v1/tracks/x/plays", "track_id must be a whole number in range, not 'x'"),
        (
            "/api/v1/tracklist/1/versions/2/extra",
            "no route matches /api/v1/tracklist/1/versions/2/extra",
        ),
    ],
)
def test_every_routing_404_is_a_problem_that_says_why(
    client: FlaskClient, path: str, detail: str
) -> None:
    # werkzeug's generic "The requested URL was not found..." tells the client nothing.
    body = assert_problem(client.get(path), 404, "not-found")
    assert body["detail"] == detail


def test_an_unknown_method_is_a_405_problem_naming_the_allowed_ones(client: FlaskClient) -> None:
    response = client.patch("/api/v1/cue/formats")
    body = assert_problem(response, 405, "method-not-allowed")
    assert (
        body["detail"] == "PATCH is not allowed on /api/v1/cue/formats; allowed: GET, HEAD, OPTIONS"
    )


def test_413_for_bodies_over_the_limit(api_settings: Settings) -> None:
    app = create_app(api_settings.model_copy(update={"api_max_content_length": 2048}))
    response = app.test_client().post(
        "/api/v1/auth/token", data="x" * 4096, content_type="application/json"
    )
    assert_problem(response, 413, "payload-too-large")


def test_400_for_malformed_json(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/token", data="{", content_type="application/json")
    assert_problem(response, 400, "bad-request")


def test_422_names_the_field(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": ["x"], "password": "p"})
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "username"
    assert body["errors"][0]["location"] == "json"
    assert "username" in body["detail"]


def test_401_and_403(client: FlaskClient, login: Callable[[str], dict[str, Any]]) -> None:
    response = client.get("/api/v1/admin/stats")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    reader = login("reader")["access_token"]
    assert_problem(client.get("/api/v1/admin/stats", headers=bearer(reader)), 403, "forbidden")


def test_malformed_tokens_are_401_not_422(client: FlaskClient) -> None:
    for token in ("abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"):
        assert_problem(
            client.get("/api/v1/auth/whoami", headers=bearer(token)), 401, "invalid-token"
        )
    response = client.get("/api/v1/auth/whoami", headers={"Authorization": "Basic dTpw"})
    assert_problem(response, 401, "unauthorized")


@pytest.fixture
def failing_app(api_settings: Settings) -> Flask:
    app = create_app(api_settings)

    def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    def problem() -> str:
        raise field_error("url", "not a tracklist page")

    def teapot() -> str:
        raise ApiProblem(418, "short and stout")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/problem", "problem", problem)
    app.add_url_rule("/teapot", "teapot", teapot)
    return app


def test_500_hides_internals(failing_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    response = failing_app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "hunter2" in caplog.text  # ...but the log has it
    assert body["detail"] == "the server failed to handle the request"


def test_debug_mode_is_applied_and_still_hides_internals(api_settings: Settings) -> None:
    app = create_app(api_settings.model_copy(update={"debug_mode": True}))

    def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/boom", "boom", boom)
    assert app.debug  # TRACKLIST_DEBUG_MODE
    response = app.test_client().get("/boom")
    assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.get_data(as_text=True)


def test_raised_problems(failing_app: Flask) -> None:
    client = failing_app.test_client()
    body = assert_problem(client.get("/problem"), 422, "validation-error")
    assert body["errors"] == [
        {"field": "url", "location": "json", "message": "not a tracklist page"}
    ]
    body = assert_problem(client.get("/teapot"), 418, None)
    assert body["type"] == "about:blank"


def test_database_down_is_503(api_settings: Settings) -> None:
    settings = api_settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/nothing"}
    )
    app = create_app(settings)
    response = app.test_client().post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert_problem(response, 503, "service-unavailable")
    assert response.headers["Retry-After"]


def test_problem_types_are_unique_and_stable() -> None:
    uris = [problem.uri for problem in PROBLEM_TYPES.values()]
    assert len(uris) == len(set(uris))
    assert PROBLEM_TYPES["not-found"].uri == "urn:tracklists:problem:not-found"

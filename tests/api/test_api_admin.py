"""Admin endpoints on real PostgreSQL, Redis and RabbitMQ; /health, /metrics, OpenAPI."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from api_data import Catalogue
from api_helpers import PASSWORD, bearer
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from api import create_app
from api.admin import CRAWL_QUEUE_KEYS
from api.extensions import SETTINGS_KEY
from config.settings import Settings
from store import heartbeats
from store.db import make_engine, make_session_factory, session_scope
from store.models import CRAWL_STATUSES, CrawlRequest, OutboxEvent


@pytest.fixture
def admin_token(login: Callable[[str], dict[str, Any]]) -> str:
    token: str = login("admin")["access_token"]
    return token


def test_stats_count_the_store_and_queues(
    client: FlaskClient, admin_token: str, api_database_url: str, redis_server: Any
) -> None:
    before = client.get("/api/v1/admin/stats", headers=bearer(admin_token))
    assert before.status_code == 200
    assert set(before.json["crawl_requests"]) == set(CRAWL_STATUSES)
    assert before.json["counts"]["users"] >= 1

    key = CRAWL_QUEUE_KEYS[0]
    # The queue key is shared: add uniquely named items, remove exactly those.
    items = [f"admin-test-{uuid.uuid4()}" for _ in range(3)]
    redis_server.rpush(key, *items)
    engine = make_engine(api_database_url)
    factory = make_session_factory(engine)
    ids = [uuid.uuid4(), uuid.uuid4()]
    try:
        with session_scope(factory) as session:
            session.add_all(
                [CrawlRequest(correlation_id=i, url=f"https://x/{i}", status="failed") for i in ids]
            )
            session.add(
                OutboxEvent(event_type="t", routing_key="t", payload={}, correlation_id=str(ids[0]))
            )
        after = client.get("/api/v1/admin/stats", headers=bearer(admin_token)).json
    finally:
        for item in items:
            redis_server.lrem(key, 0, item)
        with session_scope(factory) as session:
            session.execute(delete(CrawlRequest).where(CrawlRequest.correlation_id.in_(ids)))
            session.execute(delete(OutboxEvent).where(OutboxEvent.correlation_id == str(ids[0])))
        engine.dispose()
    assert after["crawl_requests"]["failed"] == before.json["crawl_requests"]["failed"] + 2
    assert after["outbox"]["unsent"] == before.json["outbox"]["unsent"] + 1
    assert after["outbox"]["oldest_unsent_age_seconds"] >= 0
    assert after["queues"][key] == (before.json["queues"][key] or 0) + 3


def test_cache_clear_deletes_only_cached_responses(
    client: FlaskClient, admin_token: str, redis_prefix: str, redis_server: Any
) -> None:
    for name in ("search:a", "search:b", "tracklist:c"):
        redis_server.set(f"{redis_prefix}cache:{name}", "x")
    redis_server.set(f"{redis_prefix}jwt:revoked:keep", "1")
    response = client.post("/api/v1/admin/cache/clear", headers=bearer(admin_token))
    assert response.status_code == 200
    assert response.json == {"deleted": 3, "redis": "up"}
    assert not list(redis_server.scan_iter(match=f"{redis_prefix}cache:*"))
    assert redis_server.exists(f"{redis_prefix}jwt:revoked:keep")
    # Rate-limit counters survive too (this very request was counted).
    assert list(redis_server.scan_iter(match=f"{redis_prefix}limits*"))


def test_cache_clear_empties_the_near_cache_too(
    api_settings: Settings, admin_token: str, catalogue: Catalogue
) -> None:
    # Stamps trusted for 30 s: without clearing the near cache, the body would still be a HIT.
    client = create_app(api_settings, cache_stamp_seconds=30).test_client()
    url = f"/api/v1/tracklist/{catalogue.ids['cox-timewarp']}"
    client.get(url)
    assert client.get(url).headers["X-Cache"] == "HIT"
    client.post("/api/v1/admin/cache/clear", headers=bearer(admin_token))
    assert client.get(url).headers["X-Cache"] == "MISS"


def test_component_health_reports_every_component(
    app: Flask, client: FlaskClient, admin_token: str, redis_server: redis.Redis
) -> None:
    prefix = app.extensions[SETTINGS_KEY].worker_heartbeat_key_prefix
    heartbeats.beat(redis_server, prefix, "testhost:1:health", ttl_seconds=30)
    try:
        response = client.get("/api/v1/admin/health", headers=bearer(admin_token))
    finally:
        heartbeats.forget(redis_server, prefix, "testhost:1:health")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok", body
    for name in ("database", "redis", "rabbitmq", "workers"):
        component = body["components"][name]
        assert component["status"] == "up"
        assert component["latency_ms"] >= 0
        assert component["error"] is None
    assert "testhost:1:health" in body["components"]["workers"]["details"]["last_heartbeat"]


def test_no_live_worker_degrades_health(client: FlaskClient, admin_token: str) -> None:
    # The test app's heartbeat prefix is its own (conftest): no other run's workers show.
    body = client.get("/api/v1/admin/health", headers=bearer(admin_token)).json
    assert body["status"] == "degraded"
    assert body["components"]["workers"]["status"] == "down"
    assert "no crawl worker" in body["components"]["workers"]["error"]


def test_broken_components_are_reported_not_raised(
    api_settings: Settings, make_user: Callable[..., str]
) -> None:
    settings = api_settings.model_copy(
        update={
            "mq_rabbitmq_url": "amqp://guest:guest@127.0.0.1:1/",
            "redis_url": "redis://127.0.0.1:1/0",
        }
    )
    app: Flask = create_app(settings)
    client = app.test_client()
    username = make_user("admin")
    token = client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    ).json["access_token"]
    response = client.get("/api/v1/admin/health", headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "degraded"
    assert body["components"]["database"]["status"] == "up"
    # On a shared database an unreachable Redis is an outage, not embedded mode.
    assert body["components"]["redis"]["status"] == "down"
    rabbit = body["components"]["rabbitmq"]
    assert rabbit["status"] == "down"
    assert rabbit["error"]
    assert rabbit["last_error"]["message"] == rabbit["error"]
    # Redis down: stats without queues, and still no 500.
    stats = client.get("/api/v1/admin/stats", headers=bearer(token))
    assert stats.status_code == 200
    assert stats.json["queues"] is None


def test_health_is_cheap_and_outside_the_prefix(api_settings: Settings) -> None:
    # Even with the database unreachable, the process reports itself alive.
    settings = api_settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/none"}
    )
    response = create_app(settings).test_client().get("/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_metrics_count_requests_by_route(client: FlaskClient) -> None:
    client.get("/health")
    client.get("/api/v1/no-such-route")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'tracklists_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "tracklists_http_request_duration_seconds_bucket" in text


def test_metrics_can_be_disabled(api_settings: Settings) -> None:
    app = create_app(api_settings.model_copy(update={"metrics_enabled": False}))
    assert app.test_client().get("/metrics").status_code == 404


def test_openapi_document_describes_auth_and_problems(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    stats = spec["paths"]["/api/v1/admin/stats"]["get"]
    assert stats["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403"} <= set(stats["responses"])
    assert "security" not in spec["paths"]["/api/v1/auth/token"]["post"]
    assert "/health" in spec["paths"]
    unauthorized = spec["components"]["responses"]["UNAUTHORIZED"]
    assert "application/problem+json" in unauthorized["content"]


def test_docs_page_follows_the_setting(api_settings: Settings) -> None:
    enabled = create_app(api_settings).test_client()
    page = enabled.get("/api/v1/docs")
    assert page.status_code == 200
    assert "swagger" in page.get_data(as_text=True).lower()
    disabled = create_app(api_settings.model_copy(update={"api_docs_enabled": False}))
    client = disabled.test_client()
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200

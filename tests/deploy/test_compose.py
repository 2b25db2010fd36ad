"""docker-compose.yml is checked here because no Docker engine runs on CI machines."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_SERVICES = {"postgres", "redis", "rabbitmq", "api", "worker", "relay"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(document, dict)
    return document


def test_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    # The compose-spec JSON schema as vendored by check-jsonschema (no network needed).
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(compose, schema)


def test_schema_check_catches_a_typo(compose: dict[str, Any]) -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["healtcheck"] = broken["services"]["api"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_every_component_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= REQUIRED_SERVICES
    for name in REQUIRED_SERVICES:
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "worker", "relay"):
        depends_on = services[name]["depends_on"]
        for dependency in ("postgres", "redis", "rabbitmq"):
            assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_no_secret_is_written_into_the_file(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        environment = service.get("environment", {})
        secret = environment.get("TRACKLIST_JWT_SECRET")
        if secret is not None:
            assert secret.startswith("${TRACKLIST_JWT_SECRET:?"), "JWT secret must come from env"

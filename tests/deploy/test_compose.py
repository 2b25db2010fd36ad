"""docker-compose.yml is checked here because no Docker engine runs on CI machines."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_SERVICES = {"postgres", "redis", "rabbitmq", "api", "lb", "worker", "relay"}


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


def test_clients_reach_the_api_replicas_through_the_load_balancer(compose: dict[str, Any]) -> None:
    services = compose["services"]
    lb, api = services["lb"], services["api"]
    assert "healthcheck" in lb
    assert lb["depends_on"]["api"]["condition"] == "service_healthy"
    # Replicas publish no port (two could not share one): clients come through the lb.
    assert "ports" not in api
    assert lb["ports"] == ["${TRACKLIST_API_PORT:-8000}:8080"]
    assert (ROOT / "deploy/nginx/listen.conf").read_text().count("listen 8080;") == 1
    # The lb runs the files of deploy/nginx (the configuration tests/deploy/test_nginx.py checks).
    source, target = lb["volumes"][0].removesuffix(":ro").split(":")
    assert (ROOT / source).resolve() == ROOT / "deploy" / "nginx"
    config = lb["command"][lb["command"].index("-c") + 1]
    assert (ROOT / "deploy/nginx" / Path(config).relative_to(target)).is_file()
    # The replicas listen where upstreams.conf sends requests, and believe the lb's one hop.
    port = api["environment"]["TRACKLIST_API_PORT"]
    assert f"server api:{port} " in (ROOT / "deploy/nginx/upstreams.conf").read_text()
    assert api["environment"]["TRACKLIST_API_TRUSTED_PROXIES"] == "1"


def _dockerfile_user_dirs() -> tuple[set[str], set[str], str]:
    """The folders the Dockerfile creates, the folders it gives away, and the user it runs as."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    created: set[str] = set()
    owned: set[str] = set()
    user = ""
    for line in text.splitlines():
        words = line.replace("&&", " ").split()
        if words[:1] == ["USER"]:
            user = words[1]
        for index, word in enumerate(words):
            if word == "mkdir":
                created |= {arg for arg in words[index + 1 :] if arg.startswith("/")}
            if word == "chown" and words[index + 1] == "-R":
                owned.add(words[index + 3])
                assert words[index + 2].split(":")[0] == "tracklists"
    return created, owned, user


def test_volumes_are_created_in_the_image_for_its_user(compose: dict[str, Any]) -> None:
    created, owned, user = _dockerfile_user_dirs()
    assert user == "tracklists"
    app_image = compose["services"]["api"]["image"]
    mounts = [
        volume.split(":")[1]
        for service in compose["services"].values()
        if service.get("image") == app_image
        for volume in service.get("volumes", [])
    ]
    assert "/app/var/cue" in mounts
    for target in mounts:
        # A named volume mounted on a folder the image lacks would be root's: unwritable.
        assert any(Path(made).is_relative_to(target) for made in created), target
        assert any(Path(target).is_relative_to(folder) for folder in owned), target


def _docker_ignores(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore ``patterns`` keep ``path`` out of the build context.

    As Docker reads them: anchored at the context's root, ``*`` within one name, ``**`` across
    folders, a pattern matching a folder matches all below it, the last match wins (``!``).
    """
    ignored = False
    parts = path.split("/")
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw.removeprefix("!").strip("/")
        regex = ""
        index = 0
        while index < len(pattern):
            if pattern.startswith("**/", index):
                regex, index = regex + "(?:.*/)?", index + 3
            elif pattern.startswith("**", index):
                regex, index = regex + ".*", index + 2
            elif pattern[index] == "*":
                regex, index = regex + "[^/]*", index + 1
            elif pattern[index] == "?":
                regex, index = regex + "[^/]", index + 1
            else:
                regex, index = regex + re.escape(pattern[index]), index + 1
        prefixes = ("/".join(parts[: end + 1]) for end in range(len(parts)))
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_secrets_data_and_caches_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in (
        ".env",
        ".env.production",
        "var/tracklists.db",
        "var/cue/batch-1.zip",
        ".venv/bin/python",
        ".git/HEAD",
        "__pycache__/x.pyc",
        "api/__pycache__/app.cpython-311.pyc",
        "tests/api/__pycache__/conftest.cpython-311-pytest-8.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/api.json",
        ".ruff_cache/CACHEDIR.TAG",
        ".hypothesis/examples/x",
    ):
        assert _docker_ignores(patterns, path), f"{path} would be copied into the image"
    for path in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        ".env.example",
        "api/__init__.py",
        "store/migrations/versions/0001_initial_schema.py",
        "deploy/nginx/nginx.conf",
        "cli/__main__.py",
    ):
        assert not _docker_ignores(patterns, path), f"{path} would be left out of the image"


def test_scaling_out_is_documented() -> None:
    for doc in ("README.md", "docs/operations.md"):
        text = (ROOT / doc).read_text()
        assert "--scale worker=3" in text, doc
        assert "--scale api=2" in text, doc

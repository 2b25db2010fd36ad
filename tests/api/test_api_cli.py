"""``tracklists users``, ``keys`` and ``serve`` (argument building; the server runs in
test_api_gunicorn.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from api_helpers import PASSWORD
from click.testing import CliRunner
from flask.testing import FlaskClient

from cli.main import main
from cli.serve import gunicorn_argv, port_in_use
from config.settings import ConfigError, Settings, load_settings

pytestmark = pytest.mark.programs


@pytest.fixture
def runner(api_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner(env={"TRACKLIST_DATABASE_URL": api_database_url})


def test_users_add_list_and_keys(runner: CliRunner, client: FlaskClient) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(
        main, ["users", "add", name, "--role", "editor", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert f"created user {name} (editor)" in result.output

    again = runner.invoke(main, ["users", "add", name, "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code != 0
    assert "already exists" in again.output

    created = runner.invoke(main, ["keys", "create", name, "--name", "ci"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("tl_")
    assert "not kept" in created.stderr

    listing = runner.invoke(main, ["users", "list"])
    assert f"{name}\teditor\tactive\t1 key(s)" in listing.output

    token = client.post("/api/v1/auth/token", json={"api_key": key})
    assert token.status_code == 200
    assert token.json["role"] == "editor"

    prefix = key.split("_")[1]
    revoked = runner.invoke(main, ["keys", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert client.post("/api/v1/auth/token", json={"api_key": key}).status_code == 401
    unknown = runner.invoke(main, ["keys", "revoke", "ffffffffffff"])
    assert unknown.exit_code != 0
    assert "no API key" in unknown.output


def test_password_prompt_asks_twice(runner: CliRunner) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(main, ["users", "add", name], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_bad_input_is_one_line(runner: CliRunner) -> None:
    weak = runner.invoke(main, ["users", "add", "someone", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0
    assert "at least 8" in weak.output
    role = runner.invoke(main, ["users", "add", "x", "--role", "root", "--password-stdin"])
    assert role.exit_code != 0


def test_gunicorn_command_line() -> None:
    settings = Settings(api_host="127.0.0.1", api_port=9123, api_workers=3, api_threads=4)
    argv = gunicorn_argv(settings)
    assert argv[-1] == "api:create_app()"
    joined = " ".join(argv)
    for part in (
        "--worker-class api.gunicorn_worker.BufferingWorker",
        "--workers 3",
        "--threads 4",
        "--bind 127.0.0.1:9123",
    ):
        assert part in joined
    assert "--preload" not in argv
    assert "--no-control-socket" in argv
    assert "--reuse-port" in argv
    shared = gunicorn_argv(Settings(api_host="127.0.0.1", api_port=9123, api_reuse_port=False))
    assert "--reuse-port" not in shared


def _serve(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tracklists serve`` with only ``env`` (and PATH), for the ways it refuses to start."""
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_a_port_something_listens_on(tmp_path: Path) -> None:
    # With SO_REUSEPORT, the workers could otherwise share the port with that listener.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(
            {
                "TRACKLIST_API_HOST": "127.0.0.1",
                "TRACKLIST_API_PORT": str(port),
                "TRACKLIST_DATA_DIR": str(tmp_path / "var"),
            },
            tmp_path,
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "TRACKLIST_API_PORT" in result.stderr


def test_a_host_that_does_not_resolve_is_the_reason_given() -> None:
    reason = port_in_use("no-such-host.invalid", 8000)
    assert isinstance(reason, OSError)
    assert port_in_use("127.0.0.1", _free_port()) is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_refuses_production_without_a_secret(tmp_path: Path) -> None:
    result = _serve({"TRACKLIST_ENVIRONMENT": "production"}, tmp_path)
    assert result.returncode != 0
    assert "TRACKLIST_JWT_SECRET is required" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_settings_defaults_for_the_api() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.api_trusted_proxies == 0
    assert settings.api_rate_limit_anonymous == "60/minute"
    assert settings.jwt_access_token_minutes == 15
    assert settings.jwt_refresh_token_days == 30


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKLIST_API_RATE_LIMIT_ANONYMOUS", "lots"),
        ("TRACKLIST_API_RATE_LIMIT_LOGIN", "10 per fortnight"),
        ("TRACKLIST_API_TRUSTED_PROXIES", "-1"),
        ("TRACKLIST_API_MAX_CONTENT_LENGTH", "10"),
    ],
)
def test_bad_api_settings_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value}, env_file=None)

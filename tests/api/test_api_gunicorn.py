"""The API as deployed: ``tracklists serve`` (gunicorn, 2 gthread workers) on 127.0.0.1.

Real PostgreSQL and Redis; tokens, the blocklist and rate limits must hold across workers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from api_helpers import JWT_SECRET, PASSWORD, REDIS_URL, bearer

pytestmark = pytest.mark.programs

ANONYMOUS_LIMIT = 12


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    cwd: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # bound but workers still booting
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /health in time")


@contextmanager
def _serving(
    database_url: str, redis_prefix: str, folder: Path, **overrides: str
) -> Iterator[Server]:
    """``tracklists serve`` in ``folder`` (output in ``gunicorn.log``), stopped with SIGTERM."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TRACKLIST_ENVIRONMENT": "test",
        "TRACKLIST_DATA_DIR": str(folder / "var"),
        "TRACKLIST_DATABASE_URL": database_url,
        "TRACKLIST_REDIS_URL": REDIS_URL,
        "TRACKLIST_CACHE_KEY_PREFIX": redis_prefix,
        "TRACKLIST_JWT_SECRET": JWT_SECRET,
        "TRACKLIST_API_HOST": "127.0.0.1",
        "TRACKLIST_API_PORT": str(port),
        "TRACKLIST_API_WORKERS": "2",
        "TRACKLIST_API_THREADS": "4",
        "TRACKLIST_API_LOG_LEVEL": "warning",
        "TRACKLIST_API_RATE_LIMIT_ANONYMOUS": f"{ANONYMOUS_LIMIT}/minute",
        "TRACKLIST_API_RATE_LIMIT_AUTHENTICATED": "1000/minute",
        **overrides,
    }
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve"],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, time.monotonic() + 30)
        yield Server(url, env, folder)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(api_database_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[Server]:
    with _serving(api_database_url, redis_prefix, tmp_path) as running:
        yield running


def _add_admin(server: Server) -> str:
    username = f"gunicorn-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "users",
            "add",
            username,
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=server.env,
        cwd=server.cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return username


def _listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on 127.0.0.1:``port`` (``/proc/net/tcp``, state 0A)."""
    local = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == local and row.split()[3] == "0A")


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
def test_each_worker_listens_on_a_socket_of_its_own(server: Server) -> None:
    # TRACKLIST_API_REUSE_PORT (default): the kernel spreads connections over the workers.
    port = int(server.url.rsplit(":", 1)[1])
    assert _listening_sockets(port) == 2


def test_tokens_and_revocation_hold_across_workers(server: Server) -> None:
    username = _add_admin(server)
    session = requests.Session()
    response = session.post(
        f"{server.url}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    access = bearer(tokens["access_token"])

    # Several requests on fresh connections land on both workers.
    for _ in range(6):
        stats = requests.get(f"{server.url}/api/v1/admin/stats", headers=access, timeout=10)
        assert stats.status_code == 200, stats.text
        assert stats.json()["counts"]["users"] >= 1
    health = requests.get(f"{server.url}/api/v1/admin/health", headers=access, timeout=10)
    assert health.json()["components"]["database"]["status"] == "up"
    assert health.json()["components"]["redis"]["status"] == "up"

    logout = requests.post(f"{server.url}/api/v1/auth/logout", headers=access, timeout=10)
    assert logout.status_code == 204
    for _ in range(6):
        after = requests.get(f"{server.url}/api/v1/auth/whoami", headers=access, timeout=10)
        assert after.status_code == 401
        assert after.headers["Content-Type"] == "application/problem+json"
    refresh = requests.post(
        f"{server.url}/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]), timeout=10
    )
    assert refresh.status_code == 401


def test_rate_limits_hold_across_workers(server: Server) -> None:
    statuses = []
    retry_after = None
    for n in range(ANONYMOUS_LIMIT + 3):
        response = requests.get(
            f"{server.url}/api/v1/openapi.json",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},  # forged: must change nothing
            timeout=10,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After")
            assert response.headers["Content-Type"] == "application/problem+json"
    assert statuses == [200] * ANONYMOUS_LIMIT + [429] * 3
    assert retry_after is not None
    assert int(retry_after) > 0


def test_errors_and_metrics_through_gunicorn(server: Server) -> None:
    missing = requests.get(f"{server.url}/api/v1/nothing", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:tracklists:problem:not-found"
    too_big = requests.post(
        f"{server.url}/api/v1/auth/token",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413
    metrics = requests.get(f"{server.url}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert 'route="<unmatched>",status="404"' in metrics.text


def test_requests_are_logged_as_json_lines_with_their_request_id(server: Server) -> None:
    answer = requests.get(f"{server.url}/health", headers={"X-Request-ID": "trace-42"}, timeout=10)
    assert answer.headers["X-Request-ID"] == "trace-42"
    log_file = server.cwd / "gunicorn.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = [
            json.loads(line)
            for line in log_file.read_text().splitlines()
            if line.startswith('{"time"')
        ]
        mine = [e for e in events if e.get("request_id") == "trace-42"]
        if mine:
            break
        time.sleep(0.2)
    assert mine, log_file.read_text()[-2000:]
    assert (mine[0]["component"], mine[0]["route"], mine[0]["status"]) == ("api", "/health", 200)


def test_gunicorns_own_lines_are_json_lines_too(
    api_database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """A bad request line and the workers' exit, from gunicorn itself, as our JSON lines."""
    with _serving(
        api_database_url, redis_prefix, tmp_path, TRACKLIST_API_LOG_LEVEL="info"
    ) as running:
        port = int(running.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"NOT AN HTTP REQUEST LINE\r\n\r\n")
            answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400 ")
    # Stopped: the workers have written their last lines.
    output = (tmp_path / "gunicorn.log").read_text()
    assert "Logging error" not in output, output[-3000:]
    lines = [line for line in output.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(events) == len(lines), [line for line in lines if not line.startswith("{")]
    from_gunicorn = [e for e in events if e["logger"] == "gunicorn.error"]
    assert all(e["component"] == "api" for e in from_gunicorn)
    [invalid] = [e for e in from_gunicorn if "Invalid HTTP request line" in e["message"]]
    assert invalid["level"] == "WARNING"
    assert "NOT AN HTTP REQUEST LINE" in invalid["message"]
    exits = [e for e in from_gunicorn if e["message"].startswith("Worker exiting")]
    assert len(exits) == 2  # both workers

"""Slow clients against ``tracklists serve`` (issue 16): they hold no worker thread, and they are
answered 408 and closed after TRACKLIST_API_CLIENT_TIMEOUT.

One worker with 2 threads, so that a handful of slow connections would be enough to stop it
if each held a thread (as with gunicorn's gthread worker).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from api_helpers import JWT_SECRET, REDIS_URL
from support.service import free_port

pytestmark = pytest.mark.programs

THREADS = 2
SLOW = 3 * THREADS  # more slow connections than threads, of each kind
SLOW_BODY = (
    b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)
SLOW_HEADERS = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: "


@contextlib.contextmanager
def _serve(database_url: str, prefix: str, work: Path, client_timeout: float) -> Iterator[int]:
    """``tracklists serve`` with one worker of 2 threads; yields its port once it answers."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TRACKLIST_ENVIRONMENT": "test",
        "TRACKLIST_DATA_DIR": str(work / "var"),
        "TRACKLIST_DATABASE_URL": database_url,
        "TRACKLIST_REDIS_URL": REDIS_URL,
        "TRACKLIST_CACHE_KEY_PREFIX": prefix,
        "TRACKLIST_JWT_SECRET": JWT_SECRET,
        "TRACKLIST_API_HOST": "127.0.0.1",
        "TRACKLIST_API_PORT": str(port),
        "TRACKLIST_API_WORKERS": "1",
        "TRACKLIST_API_THREADS": str(THREADS),
        "TRACKLIST_API_LOG_LEVEL": "warning",
        "TRACKLIST_API_CLIENT_TIMEOUT": str(client_timeout),
        "TRACKLIST_API_RATE_LIMIT_LOGIN": "1000/minute",
    }
    with (work / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"],
            env=env,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, f"serve exited with {process.returncode}"
                assert time.monotonic() < deadline, "serve did not answer /health in time"
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                        break
                time.sleep(0.2)
            yield port
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def patient_server(api_database_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[int]:
    """A server that gives clients 60 s: slow connections stay open through a test."""
    with _serve(api_database_url, redis_prefix, tmp_path, client_timeout=60) as port:
        yield port


@pytest.fixture
def impatient_server(api_database_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[int]:
    """A server that gives clients 1 s to send a request."""
    with _serve(api_database_url, redis_prefix, tmp_path, client_timeout=1) as port:
        yield port


def _connect(port: int, start: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(start)
    return sock


def _still_open(sock: socket.socket) -> bool:
    """Whether the server has neither answered nor closed ``sock``."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" for a close
    except BlockingIOError:
        return True  # nothing to read yet
    finally:
        sock.setblocking(True)
    return False


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _status_and_body(answer: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *fields = head.split(b"\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (field.partition(b":") for field in fields)
    }
    return status, headers, body


def test_requests_are_answered_while_more_slow_clients_than_threads_are_open(
    patient_server: int,
) -> None:
    port = patient_server
    base = f"http://127.0.0.1:{port}"
    slow = [_connect(port, SLOW_BODY) for _ in range(SLOW)]
    slow += [_connect(port, SLOW_HEADERS) for _ in range(SLOW)]
    try:
        time.sleep(0.5)  # the worker has accepted them all and is reading them
        for sock in slow:
            sock.sendall(b"x")  # still trickling
        for _ in range(5):
            assert requests.get(f"{base}/health", timeout=10).status_code == 200
        # A request with a body, sent at once, gets its answer too.
        login = requests.post(
            f"{base}/api/v1/auth/token", json={"username": "nobody", "password": "x"}, timeout=10
        )
        assert login.status_code == 401
        assert login.json()["type"] == "urn:tracklists:problem:invalid-credentials"
        # ... while every slow connection was open: none was closed to make room.
        assert all(_still_open(sock) for sock in slow)
    finally:
        for sock in slow:
            sock.close()


def test_clients_that_do_not_close_their_end_do_not_stall_the_worker(
    patient_server: int,
) -> None:
    # gunicorn's own close of a "Connection: close" response waits up to 2 s, in the event
    # loop, for the client to close too: 8 such clients stalled the worker for 16 s.
    lingering = [
        _connect(patient_server, b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        for _ in range(4 * THREADS)
    ]
    try:
        time.sleep(0.5)  # all answered
        for _ in range(5):
            assert requests.get(f"http://127.0.0.1:{patient_server}/health", timeout=5).ok
        for sock in lingering:  # answered, and half-closed by the server: they read to the end
            assert _read_all(sock).startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        for sock in lingering:
            sock.close()


def test_a_slow_body_is_answered_408_and_closed(impatient_server: int) -> None:
    sock = _connect(impatient_server, SLOW_BODY)
    with sock:
        sock.sendall(b'"username"')
        answer = _read_all(sock)  # the server closes the connection after its answer
    status, headers, body = _status_and_body(answer)
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"connection"] == b"close"
    problem = json.loads(body)
    assert problem["type"] == "urn:tracklists:problem:request-timeout"
    assert problem["status"] == 408
    assert problem["detail"] == "the request was not received within 1 s"


def test_slow_headers_are_answered_408_and_an_idle_connection_is_just_closed(
    impatient_server: int,
) -> None:
    with _connect(impatient_server, SLOW_HEADERS) as slow_headers:
        answer = _read_all(slow_headers)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    with _connect(impatient_server, b"") as idle:
        assert _read_all(idle) == b""


def test_a_slow_body_that_finishes_in_time_is_served(impatient_server: int) -> None:
    body = json.dumps({"username": "nobody", "password": "x"}).encode()
    head = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with _connect(impatient_server, head) as sock:
        for piece in (body[:5], body[5:12], body[12:]):
            time.sleep(0.1)
            sock.sendall(piece)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 401 ")


def test_bodies_framed_every_way_reach_the_app(impatient_server: int) -> None:
    base = f"http://127.0.0.1:{impatient_server}"
    credentials = {"username": "nobody", "password": "x"}
    chunked = requests.post(
        f"{base}/api/v1/auth/token",
        data=iter([b'{"username": "nobody", ', b'"password": "x"}']),  # chunked
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert chunked.status_code == 401, chunked.text
    # Over TRACKLIST_API_MAX_CONTENT_LENGTH: 413 without waiting for a body never sent.
    with _connect(
        impatient_server,
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999\r\n\r\n",
    ) as huge:
        assert huge.recv(65536).startswith(b"HTTP/1.1 413 ")
    # A body h11 cannot frame (HTTP/1.1 without Host): 400 at once, not a wait for the body.
    with _connect(
        impatient_server, b"POST /api/v1/auth/token HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"
    ) as unframed:
        status, headers, body = _status_and_body(_read_all(unframed))
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(body)["type"] == "urn:tracklists:problem:bad-request"
    # Expect: 100-continue: one "100 Continue", then the body, then the answer.
    body = json.dumps(credentials).encode()
    with _connect(
        impatient_server,
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body),
    ) as expecting:
        assert expecting.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        expecting.sendall(body)
        answer = _read_all(expecting)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    # Two requests in one packet (pipelined), then a third on the kept-alive connection.
    get = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"
    with _connect(impatient_server, get + get) as pipelined:
        answers = b""
        while answers.count(b"HTTP/1.1 200 OK") < 2:
            answers += pipelined.recv(65536)
        pipelined.sendall(get.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        answers += _read_all(pipelined)
    assert answers.count(b"HTTP/1.1 200 OK") == 3

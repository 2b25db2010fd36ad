"""The load balancer's configuration (deploy/nginx), checked and run by the real nginx binary.

nginx stands in front of two small WSGI servers that count what reaches them: requests are
spread over both, a request body is passed on only once the client has sent all of it, and
with one replica gone every request is answered by the other.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support.nginx import NGINX_DIR, Nginx, check_config, nginx_argv, nginx_config
from support.service import free_port
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


def test_the_shipped_configuration_is_valid(tmp_path: Path) -> None:
    # The three shipped files as they are, but for the compose service name `api`, which
    # nginx -t must resolve and this machine does not know.
    prefix = tmp_path / "lb"
    shutil.copytree(NGINX_DIR, prefix)
    upstreams = prefix / "upstreams.conf"
    upstreams.write_text(upstreams.read_text().replace("server api:", "server 127.0.0.1:"))
    checked = check_config(prefix / "nginx.conf")
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_check_refuses_a_broken_configuration(tmp_path: Path) -> None:
    text = (NGINX_DIR / "nginx.conf").read_text()
    assert "proxy_request_buffering on;" in text
    broken = text.replace("proxy_request_buffering on;", "proxy_request_buffering maybe;")
    conf = nginx_config(tmp_path / "lb", ["127.0.0.1:1"], str(free_port()), main=broken)
    checked = check_config(conf)
    assert checked.returncode != 0
    assert "proxy_request_buffering" in checked.stderr


def test_slow_clients_and_failover_directives_are_set(tmp_path: Path) -> None:
    # As nginx reads them: nginx -T prints the whole configuration, included files too.
    conf = nginx_config(tmp_path / "lb", ["127.0.0.1:1"], str(free_port()))
    dumped = subprocess.run(
        nginx_argv(conf, "-T"), capture_output=True, text=True, timeout=30, check=True
    ).stdout
    directives = {
        " ".join(line.split("#", 1)[0].split())
        for line in dumped.splitlines()
        if line.split("#", 1)[0].strip()
    }
    assert {
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "proxy_next_upstream error timeout http_502 http_504;",
        "proxy_pass http://tracklists_api;",
        "server 127.0.0.1:1 max_fails=1 fail_timeout=10s;",
    } <= directives
    # A POST is never sent twice: nginx repeats only idempotent requests unless told otherwise.
    assert not any("non_idempotent" in directive for directive in directives)


class _OneRequestPerConnection(WSGIRequestHandler):
    # Connections close after each answer, so a stopped replica has none left open either.
    protocol_version = "HTTP/1.0"


class Replica:
    """A WSGI server on a free port that answers its name and records each request it gets."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.arrived = 0  # requests whose headers reached the replica
        self.bodies: list[bytes] = []
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_OneRequestPerConnection
        )
        self.address = f"127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.arrived += 1
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.bodies.append(environ["wsgi.input"].read(length) if length else b"")
        body = json.dumps({"replica": self.name}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # connections to its port are refused from now on
        self.thread.join(timeout=5)


@contextmanager
def balanced(tmp_path: Path) -> Iterator[tuple[Nginx, int, Replica, Replica]]:
    """nginx with the shipped configuration in front of two replicas."""
    first, second = Replica("a"), Replica("b")
    port = free_port()
    conf = nginx_config(tmp_path / "lb", [first.address, second.address], f"127.0.0.1:{port}")
    try:
        with Nginx(conf, health_url=f"http://127.0.0.1:{port}/lb-health") as lb:
            yield lb, port, first, second
    finally:
        first.stop()
        second.stop()


def _get(port: int, path: str = "/api/v1/anything") -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status, json.loads(response.read())["replica"]


def test_requests_are_spread_and_fail_over(tmp_path: Path) -> None:
    with balanced(tmp_path) as (lb, port, first, second):
        answered = [_get(port) for _ in range(10)]
        assert {status for status, _ in answered} == {200}
        assert {name for _, name in answered} == {"a", "b"}
        first.stop()
        after = [_get(port) for _ in range(10)]
        # Every request answered by the replica still up, the first one after a retry.
        assert after == [(200, "b")] * 10
        # The lb logged the failover: the stopped replica tried, then the other.
        tried = f"upstream={first.address}, {second.address}"
        deadline = time.monotonic() + 5
        while not any(tried in line for line in lb.lines) and time.monotonic() < deadline:
            time.sleep(0.05)  # its log is read by a thread
        assert any(tried in line for line in lb.lines), lb.lines
        # /metrics is each replica's own, never served through the balancer.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert refused.value.code == 404


def test_a_body_reaches_a_replica_only_once_it_is_whole(tmp_path: Path) -> None:
    with balanced(tmp_path) as (_lb, port, first, second):
        body = b'{"tracklists": ["' + b"x" * 4000 + b'"]}'
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /api/v1/batch/cue HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:100]
            )
            time.sleep(1.0)  # a slow client: the replicas have seen nothing yet
            assert first.arrived + second.arrived == 0
            client.sendall(body[100:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert first.bodies + second.bodies == [body]

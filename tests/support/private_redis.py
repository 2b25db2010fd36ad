"""A private redis-server for tests that restart it or configure it (the machine's stays as is)."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis
from support.service import free_port, service_unavailable


def redis_server_available() -> None:
    """Skip locally, fail in CI, without the ``redis-server`` program."""
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server is not installed")


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk.

    Restarting it loses every key, as restarting the machine's Redis here would; the
    machine's own Redis is never touched.
    """

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.options = options  # more redis-server options, e.g. "--maxmemory", "1mb"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, down_seconds: float = 1.0) -> None:
        """Kill it (everything in it is lost), wait, start it again on the same port."""
        self.kill()
        time.sleep(down_seconds)
        self.start()

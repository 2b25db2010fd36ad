"""``tracklists up`` as a test fixture: start it, read its console, wait on it, stop it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def service_unavailable(reason: str) -> None:
    """Skip locally, fail in CI (``CI`` set), when a real service the test needs is down."""
    if os.environ.get("CI"):
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Up:
    """A running ``tracklists up`` whose console output is collected line by line.

    ``command`` runs another ``tracklists`` command the same way (``"serve"``: the API alone).
    """

    def __init__(self, env: dict[str, str], port: int, *args: str, command: str = "up") -> None:
        self.port = port
        self.env = env
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", command, *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    def said(self, pattern: str) -> re.Match[str] | None:
        return next((m for line in list(self.lines) if (m := re.search(pattern, line))), None)

    def health(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/health", timeout=2
            ) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def wait_for(condition: Callable[[], object], timeout: float, up: Up) -> None:
    """Poll ``condition`` until true; fail with the service's last lines if it dies or times out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or up.process.poll() is not None:
            raise AssertionError("not reached; output:\n" + "\n".join(up.lines[-40:]))
        time.sleep(0.3)

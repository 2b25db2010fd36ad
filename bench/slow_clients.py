"""Slow clients against a running API: a normal GET's p99 with and without them, and how long
the server keeps them.

A slow client opens a connection and trickles its request, one byte every ``--trickle``
seconds: half of them send a ``POST`` with a ``Content-Length`` and then the body (slow body),
half their header lines (slow headers). While they are open, one client sends the same cached
``GET`` one request after another on a kept-alive connection; its p99 is compared with the
same measurement with no slow client open. Goal: p99 with slow clients <= 2x the idle p99.
Then each slow connection is watched until the server closes it: the time from its first
byte to the close, and what it was answered (``408`` or nothing).

Run from ``bench/api.py`` (``--slow-connections``), or on its own against any running
``tracklists serve``: ``uv run python bench/slow_clients.py http://127.0.0.1:8000/health``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import selectors
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SLOW_BODY = (
    b"POST /api/v1/auth/token HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: 4096\r\n\r\n"
)
SLOW_HEADERS = b"GET /health HTTP/1.1\r\nHost: bench\r\n"
# What a slow client trickles: body bytes, or the bytes of endless header lines.
BODY_FILL = b"{"
HEADER_FILL = b"X-Slow: y\r\n"


@dataclass
class SlowClient:
    """One trickling connection and what became of it."""

    sock: socket.socket
    kind: str
    opened: float
    closed: float | None = None
    answer: bytes = b""
    sent: int = 0
    fill: bytes = field(default=b"")


def _open(host: str, port: int, kind: str) -> SlowClient:
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(SLOW_BODY if kind == "body" else SLOW_HEADERS)
    sock.setblocking(False)
    fill = BODY_FILL if kind == "body" else HEADER_FILL
    return SlowClient(sock, kind, time.monotonic(), fill=fill)


class SlowClients:
    """``count`` trickling connections, driven by one thread until :meth:`close`."""

    def __init__(self, host: str, port: int, count: int, trickle: float) -> None:
        self.clients = [
            _open(host, port, "body" if n % 2 == 0 else "headers") for n in range(count)
        ]
        self.trickle = trickle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for client in self.clients:
            selector.register(client.sock, selectors.EVENT_READ, client)
        next_send = time.monotonic()
        while not self._stop.is_set() and any(c.closed is None for c in self.clients):
            for key, _ in selector.select(timeout=max(0.0, next_send - time.monotonic())):
                self._read(key.data, selector)
            if time.monotonic() >= next_send:
                next_send += self.trickle
                for client in self.clients:
                    if client.closed is None:
                        self._send(client, selector)
        selector.close()

    def _read(self, client: SlowClient, selector: selectors.BaseSelector) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        client.answer += data
        if not data:
            self._closed(client, selector)

    def _send(self, client: SlowClient, selector: selectors.BaseSelector) -> None:
        piece = client.fill[client.sent % len(client.fill) : client.sent % len(client.fill) + 1]
        try:
            client.sock.send(piece)
            client.sent += 1
        except OSError:
            self._closed(client, selector)

    @staticmethod
    def _closed(client: SlowClient, selector: selectors.BaseSelector) -> None:
        client.closed = time.monotonic()
        selector.unregister(client.sock)
        client.sock.close()

    def wait_closed(self, limit: float) -> None:
        """Wait until the server has closed every slow connection, or ``limit`` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and any(c.closed is None for c in self.clients):
            time.sleep(0.1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for client in self.clients:
            if client.closed is None:
                with contextlib.suppress(OSError):
                    client.sock.close()


def get_latencies(url: str, requests: int, timeout: float = 30) -> list[float]:
    """Milliseconds per ``GET url``, one after another on one kept-alive connection."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    latencies = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"{url}: {response.status}")
    finally:
        connection.close()
    return latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def measure(
    url: str, connections: int, requests: int, trickle: float, wait: float, rounds: int = 3
) -> None:
    """Print the idle and loaded p99 of ``GET url`` and how long slow connections lasted.

    Idle and loaded runs alternate, ``rounds`` times each (medians): this machine's speed
    drifts within a minute. Each loaded run opens its own slow connections; the last run's
    are then watched until the server closes them.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    get_latencies(url, 50)  # warm-up
    idle, loaded, ratios, still_open = [], [], [], []
    slow = None
    try:
        for round_ in range(rounds):
            idle.append(p99(get_latencies(url, requests)))
            slow = SlowClients(host, port, connections, trickle)
            time.sleep(1)  # every slow connection accepted and trickling
            try:
                loaded.append(p99(get_latencies(url, requests, timeout=10)))
            except (OSError, RuntimeError) as error:
                print(f"slow clients: GET failed with {connections} slow connections: {error}")
                loaded.append(float("inf"))
            ratios.append(loaded[-1] / idle[-1])
            still_open.append(sum(1 for c in slow.clients if c.closed is None))
            if round_ < rounds - 1:
                slow.close()
        ratio = statistics.median(ratios)
        print(
            f"slow clients: GET p99 idle {statistics.median(idle):.2f} ms, with {connections} "
            f"slow connections open {statistics.median(loaded):.2f} ms: {ratio:.2f}x idle "
            f"(goal <= 2x; {rounds} rounds of {requests} requests, ratios "
            f"{', '.join(f'{value:.2f}' for value in ratios)}; slow connections still open "
            f"after each: {', '.join(map(str, still_open))})  "
            f"{'[ok]' if ratio <= 2 else '[MISSED]'}",
            flush=True,
        )
        assert slow is not None
        slow.wait_closed(wait)
    finally:
        if slow is not None:
            slow.close()
    for kind in ("body", "headers"):
        mine = [c for c in slow.clients if c.kind == kind]
        lasted = [c.closed - c.opened for c in mine if c.closed is not None]
        answered = sum(1 for c in mine if c.answer.startswith(b"HTTP/1.1 408"))
        summary = (
            f"closed by the server {min(lasted):.1f}-{max(lasted):.1f} s after they opened "
            f"(median {statistics.median(lasted):.1f} s)"
            if lasted
            else "none closed"
        )
        print(
            f"slow {kind:7} connections: {summary}; {answered}/{len(mine)} answered 408; "
            f"{len(mine) - len(lasted)} still open after {wait:.0f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="a cheap GET that answers 200, e.g. .../health")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--trickle", type=float, default=1.0, help="seconds between bytes")
    parser.add_argument("--wait", type=float, default=60, help="how long to watch for closes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    measure(args.url, args.connections, args.requests, args.trickle, args.wait, args.rounds)


if __name__ == "__main__":
    main()

"""A small closed-loop HTTP load generator for the system tests (wrk is not always there).

Each connection is a thread with one keep-alive connection issuing requests back to back (or
``pause`` seconds apart, as a well-behaved client would); every answer is recorded with its
time, status and latency, and a refusal (4xx/5xx) also with its ``Retry-After``, media type
and body.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Sample:
    at: float  # monotonic time the request was sent
    status: int  # 0 = connection error
    seconds: float
    retry_after: str | None = None  # the rest only for status >= 400
    content_type: str | None = None
    body: bytes = b""


@dataclass
class Load:
    """``connections`` threads requesting ``path_for(n)`` from ``host:port`` until stopped.

    ``n`` is ``connection * 1_000_000 + count``; ``headers_for(n)`` adds headers to the request.
    """

    host: str
    port: int
    path_for: Callable[[int], str]
    connections: int = 32
    headers_for: Callable[[int], dict[str, str]] | None = None
    pause: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for number in range(self.connections):
            thread = threading.Thread(target=self._run, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, number: int) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        count = 0
        while not self._stop.is_set():
            request_number = number * 1_000_000 + count
            path = self.path_for(request_number)
            headers = self.headers_for(request_number) if self.headers_for else {}
            count += 1
            sent = time.monotonic()
            try:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                sample = Sample(sent, answer.status, time.monotonic() - sent)
                if answer.status >= 400:
                    sample.retry_after = answer.getheader("Retry-After")
                    sample.content_type = answer.getheader("Content-Type")
                    sample.body = body
            except (OSError, http.client.HTTPException):
                sample = Sample(sent, 0, time.monotonic() - sent)
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.samples.append(sample)
            if self.pause:
                self._stop.wait(self.pause)
        connection.close()

    def percentile(self, fraction: float) -> float:
        """Latency at ``fraction`` (0.99 = p99) over answered requests, in seconds."""
        latencies = sorted(s.seconds for s in self.samples if s.status)
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(len(latencies) * fraction))]

    def summary(self) -> str:
        answered = [s for s in self.samples if s.status]
        duration = (max(s.at for s in self.samples) - min(s.at for s in self.samples)) or 1.0
        return (
            f"{len(self.samples)} requests, {len(answered) / duration:.0f} req/s, "
            f"median {statistics.median(s.seconds for s in answered) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms"
        )

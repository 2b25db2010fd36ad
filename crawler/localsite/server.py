"""The local replay site: an HTTP server on 127.0.0.1 (or ``::1``) that logs every request.

Tests start it in a background thread::

    with LocalSite.from_directories([real_pages]) as site:
        crawl(site.base_url)
        assert all(r.path != "/user/x" for r in site.requests())

and change it while it runs: ``site.robots_txt = robots_txt(crawl_delay=0.5)``,
``site.add_rule("/tracklist/*", Rule(status=429, retry_after="2", times=1))``,
``site.add_rule("/robots.txt", Rule(status=503))``, ``Rule(antibot="challenge")``,
``Rule(delay=1.0)`` (slow), ``Rule(drop_connection=True)``. ``LocalSite(store,
hostile=HostileMode(seed=...))`` answers tracklist pages like the real site answers a suspect
(:mod:`crawler.localsite.hostile`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from crawler.localsite.hostile import HostileMode
from crawler.localsite.pages import HTML_TYPE, Page, PageStore
from crawler.localsite.rules import DEFAULT_ROBOTS_TXT, Rule, RuleBook, http_date

logger = logging.getLogger(__name__)
_MAX_BODY = 1024 * 1024


@dataclass
class RequestRecord:
    """One request as the server saw it; ``time`` is ``time.monotonic()`` at arrival."""

    time: float
    wall_time: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int = 0
    client: tuple[str, int] = ("", 0)

    @property
    def user_agent(self) -> str:
        """The request's ``User-Agent`` header ("" when absent)."""
        return self.headers.get("user-agent", "")


class LocalSite:
    """A replay of the site on ``127.0.0.1``: pages, robots.txt, rules, and a request log."""

    def __init__(
        self,
        store: PageStore | None = None,
        *,
        robots_txt: str | None = DEFAULT_ROBOTS_TXT,
        host: str = "127.0.0.1",
        port: int = 0,
        hostile: HostileMode | None = None,
    ) -> None:
        self.store = store if store is not None else PageStore()
        # None: every request gets the recorded page (or what a rule says).
        self.hostile = hostile
        # None: robots.txt answers 404 (the crawler then treats the site as allow-all).
        self.robots_txt = robots_txt
        self.rules = RuleBook()
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_directories(
        cls,
        directories: Iterable[Path],
        *,
        robots_txt: str | None = DEFAULT_ROBOTS_TXT,
        host: str = "127.0.0.1",
        port: int = 0,
        hostile: HostileMode | None = None,
    ) -> LocalSite:
        """A site serving every manifest, cassette and real page in ``directories``."""
        store = PageStore()
        for directory in directories:
            store.load_directory(Path(directory))
        return cls(store, robots_txt=robots_txt, host=host, port=port, hostile=hostile)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> LocalSite:
        """Listen and serve in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("the local site is already running")
        server = self._bind()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def serve_forever(self, announce: Callable[[str], object] | None = None) -> None:
        """Serve in the calling thread until interrupted (the CLI's mode).

        ``announce`` receives the base URL once the socket is bound (the port may be ephemeral).
        """
        server = self._bind()
        self._server = server
        if announce is not None:
            announce(self.base_url)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            self._server = None

    def _bind(self) -> ThreadingHTTPServer:
        kind = _IPv6Server if ":" in self._address[0] else ThreadingHTTPServer
        server = kind(self._address, _handler_for(self))
        server.daemon_threads = True
        return server

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port actually bound (the ephemeral one when started with port 0)."""
        if self._server is None:
            raise RuntimeError("the local site is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``http://[::1]:<port>``), without a trailing slash."""
        host = self._address[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # --- rules and log ----------------------------------------------------------------------

    def add_rule(self, pattern: str, rule: Rule) -> Rule:
        """Apply ``rule`` to paths matching ``pattern`` (``fnmatch``); returns the rule."""
        return self.rules.add(pattern, rule)

    def requests(self, path: str | None = None, method: str | None = None) -> list[RequestRecord]:
        """A copy of the request log, oldest first, optionally only one path/method."""
        with self._log_lock:
            records = list(self._log)
        return [
            r
            for r in records
            if (path is None or r.path == path or urlsplit(r.path).path == path)
            and (method is None or r.method == method.upper())
        ]

    def clear_log(self) -> None:
        """Forget the requests logged so far."""
        with self._log_lock:
            self._log.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    # --- answering --------------------------------------------------------------------------

    def respond(self, record: RequestRecord) -> tuple[Page | None, Rule | None]:
        """Decide the answer for a logged request: (page or None for 404, applied rule)."""
        target = urlsplit(record.path)
        rule = self.rules.take(record.method, target.path)
        if rule is None and self.hostile is not None:
            rule = self.hostile.rule_for(record.method, target.path, self.store, self.port)
        if rule is not None and rule.delay > 0:
            time.sleep(rule.delay)
        if rule is not None and (rule.status is not None or rule.body or rule.antibot):
            return self._rule_page(rule), rule
        return self._recorded_page(record), rule

    def _rule_page(self, rule: Rule) -> Page:
        headers = dict(rule.headers)
        if rule.retry_after is not None:
            headers["Retry-After"] = rule.retry_after
        if rule.retry_after_date_in is not None:
            headers["Retry-After"] = http_date(time.time() + rule.retry_after_date_in)
        body = rule.body
        if rule.antibot is not None:
            stored = self.store.antibot.get(rule.antibot)
            if stored is None:
                raise LookupError(f"no {rule.antibot!r} page loaded (load the real pages)")
            body = stored.body
        headers.setdefault("Content-Type", HTML_TYPE)
        status = rule.status if rule.status is not None else 200
        if body is None:
            body = f"<html><body><h1>{status}</h1></body></html>".encode()
        return Page(body=body, status=status, headers=tuple(headers.items()))

    def _recorded_page(self, record: RequestRecord) -> Page | None:
        target = urlsplit(record.path)
        if target.path == "/robots.txt" and record.method in ("GET", "HEAD"):
            if self.robots_txt is None:
                return None
            body = self.robots_txt.encode()
            return Page(body=body, headers=(("Content-Type", "text/plain; charset=utf-8"),))
        params = dict(parse_qsl(target.query, keep_blank_values=True))
        if "x-www-form-urlencoded" in record.headers.get("content-type", ""):
            params.update(parse_qsl(record.body.decode("utf-8", "replace"), True))
        return self.store.find(record.method, record.path, params)


class _IPv6Server(ThreadingHTTPServer):
    """For ``host="::1"``: tests check that nothing reaches the IPv6 loopback."""

    address_family = socket.AF_INET6


def _handler_for(site: LocalSite) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.site = site
    return Handler


class _Handler(BaseHTTPRequestHandler):
    site: LocalSite
    protocol_version = "HTTP/1.1"
    server_version = "TracklistLocalSite/1"
    # Headers and body go out in two writes: with Nagle's algorithm a short body (an error,
    # a redirect) waits for the client's delayed ACK, about 40 ms on every such answer.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        arrived, wall = time.monotonic(), time.time()
        length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
        body = self.rfile.read(length) if length else b""
        record = RequestRecord(
            time=arrived,
            wall_time=wall,
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client=(str(self.client_address[0]), int(self.client_address[1])),
        )
        self.site._record(record)
        page, rule = self.site.respond(record)
        if rule is not None and rule.drop_connection:
            record.status = -1
            self.close_connection = True
            return
        if page is None:
            page = Page(body=b"<html><body><h1>404 Not Found</h1></body></html>", status=404)
        record.status = page.status
        logger.info("%s %s -> %d (%s)", record.method, record.path, page.status, record.user_agent)
        self.send_response(page.status)
        for name, value in page.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(page.body)

    def log_message(self, format: str, *args: object) -> None:
        # The request log (and the info line above) is the record: no stderr access log.
        return

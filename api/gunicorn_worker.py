"""The gunicorn worker of ``tracklists serve``: gthread, but a thread only gets whole requests.

gunicorn's gthread worker hands a connection to a thread as soon as its first byte arrives;
the thread then reads the headers and the body at the client's pace, with no deadline. A few
clients that send headers and a ``Content-Length`` and then trickle the body hold every thread,
and the API stops answering (issue 16).

:class:`BufferingWorker` reads each request in the worker's event loop instead (the selector
that already accepts connections and watches kept-alive ones), non-blocking, and submits it to
the thread pool only once it is all there: the header block, and the body that its
``Content-Length`` or chunked framing announces. The bytes go to gunicorn's own parser, which
then parses the request exactly as before without waiting for the network. A client that has
not sent its whole request ``TRACKLIST_API_CLIENT_TIMEOUT`` seconds after its first byte (or
after connecting) gets a ``408`` problem document and is closed; one that sent nothing is
closed silently. A slow client so costs a socket and its buffered bytes, never a thread.

Framing: a request whose header block names neither ``Content-Length`` nor
``Transfer-Encoding`` has no body (RFC 9112 section 6.3), which a byte search tells (the fast
path: every GET); the others are framed by h11, incrementally, so a trickled chunked body costs
no more than a fast one. A request h11 cannot frame is answered 400 by the event loop: where its
body ends is unknown, and a thread reading on for it would wait at the client's pace again.
Otherwise the framing only decides *when* a thread gets the request: gunicorn still parses it.
Should the two still disagree, a thread's every read from and write to the client gives up
after the same timeout (``SO_RCVTIMEO``, ``SO_SNDTIMEO``).

Plain HTTP/1.1 only (no TLS, no HTTP/2: TLS ends at the reverse proxy).
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import socket
import struct
import time
from functools import partial
from http import HTTPStatus
from typing import Any

import h11
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

#: Most bytes a single ``recv`` takes from a client in the event loop.
_RECV_SIZE = 65536


def problem_response(slug: str, detail: str) -> bytes:
    """A problem document of :data:`api.errors.PROBLEM_TYPES` as a whole HTTP response."""
    from api.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES

    problem = PROBLEM_TYPES[slug]
    body = json.dumps(
        {"type": problem.uri, "title": problem.title, "status": problem.status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}\r\n"
        f"Content-Type: {PROBLEM_MEDIA_TYPE}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class IncomingRequest:
    """The bytes of one request received so far, and whether they make a whole request."""

    def __init__(self, deadline: float, max_head: int, max_body: int) -> None:
        self.deadline = deadline
        self.data = bytearray()
        self._max_head = max_head
        self._max_body = max_body
        self._scanned = 0
        self._framer: h11.Connection | None = None
        #: Why the request's framing is wrong (answered 400 by the event loop), or None.
        self.malformed: str | None = None
        #: The client waits for ``100 Continue`` before it sends its body.
        self.wants_continue = False

    def feed(self, chunk: bytes) -> bool:
        """Add received bytes; True once a thread should take the request.

        That is when it is complete, and also when it is one gunicorn will refuse without
        reading further (a header block or body over the limits, a framing error): the thread
        answers it as gunicorn and the app always have.
        """
        self.data += chunk
        if self._framer is not None:
            return self._frame(chunk)
        end = self.data.find(b"\r\n\r\n", max(0, self._scanned - 3))
        if end < 0:
            self._scanned = len(self.data)
            return len(self.data) > self._max_head
        head = bytes(self.data[:end]).lower()
        if b"content-length" not in head and b"transfer-encoding" not in head:
            return True
        self._framer = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_head)
        return self._frame(bytes(self.data))

    def _frame(self, chunk: bytes) -> bool:
        assert self._framer is not None
        if len(self.data) > self._max_head + self._max_body:
            return True
        try:
            self._framer.receive_data(chunk)
            while True:
                event = self._framer.next_event()
                if event is h11.NEED_DATA:
                    return False
                if isinstance(event, h11.Request):
                    if self._declared_length(event) > self._max_body:
                        return True  # the app answers 413 without the body
                    self.wants_continue = self._framer.they_are_waiting_for_100_continue
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    return True
        except h11.RemoteProtocolError as error:
            # Not handed on: where a body ends that h11 cannot frame is unknown, and a thread
            # reading it from the client could wait on it again.
            self.malformed = str(error)
            return True

    @staticmethod
    def _declared_length(event: h11.Request) -> int:
        for name, value in event.headers:
            if name == b"content-length":
                return int(value)  # h11 has checked it is digits
        return 0


class BufferingWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gthread worker whose event loop reads whole requests before a thread handles them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests being read, oldest first: deadlines are "now + timeout", so insertion order
        # is deadline order and the expiry check stops at the first one still in time (until
        # the worker stops and deadlines get shorter).
        self.incoming: dict[Any, IncomingRequest] = {}
        self.client_timeout = 15.0
        self.max_body = 1_048_576
        self.max_head = 0
        self.timeout_response = b""
        self._stop_capped = False

    def init_process(self) -> None:
        from config.settings import load_settings

        if self.cfg.is_ssl:
            raise RuntimeError("BufferingWorker serves plain HTTP/1.1; TLS ends at the proxy")
        settings = load_settings()
        self.client_timeout = settings.api_client_timeout
        self.max_body = settings.api_max_content_length
        # gunicorn's own bound on a request's header block (gunicorn.http.message.Request).
        self.max_head = (
            self.cfg.limit_request_line
            + self.cfg.limit_request_fields * (self.cfg.limit_request_field_size + 2)
            + 4
        )
        self.timeout_response = problem_response(
            "request-timeout", f"the request was not received within {self.client_timeout:g} s"
        )
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Read ``conn``'s next request in the event loop; a thread gets it once it is whole.

        gunicorn calls this for a new connection, a kept-alive one that became readable, and
        one with bytes of its next request already read (pipelined).
        """
        if not conn.initialized:
            conn.init()  # the HTTP/1.1 parser; blocks on nothing without TLS
            # The safety net for a thread that reads or writes past the buffered request.
            seconds = int(self.client_timeout)
            micros = int((self.client_timeout - seconds) * 1_000_000)
            limit = struct.pack("ll", seconds, micros)  # struct timeval
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        conn.sock.setblocking(False)
        # A stopping worker gives a request as long as a kept-alive connection, no more.
        allowed = self.client_timeout if self.alive else STOP_KEEPALIVE_LINGER
        incoming = IncomingRequest(time.monotonic() + allowed, self.max_head, self.max_body)
        self.incoming[conn] = incoming
        pipelined = conn.parser.unreader.take_buffered()
        if pipelined and incoming.feed(pipelined):
            self._submit(conn, incoming)
        else:
            # A client has usually sent its request by now: it often goes to a thread without
            # ever being registered with the poller.
            self._receive(conn, incoming, registered=False)

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        incoming = self.incoming.get(conn)
        if incoming is not None:
            self._receive(conn, incoming, registered=True)

    def _receive(self, conn: Any, incoming: IncomingRequest, *, registered: bool) -> None:
        """Take what ``conn`` has sent; submit the request once whole, else wait for more."""
        try:
            chunk = conn.sock.recv(_RECV_SIZE)
        except BlockingIOError:
            chunk = None
        except OSError:
            chunk = b""  # as good as gone
        if chunk is None or (chunk and not incoming.feed(chunk)):
            if not registered:
                self.poller.register(
                    conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn)
                )
            if incoming.wants_continue:
                incoming.wants_continue = False
                conn.continue_sent = True
                self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        if registered:
            self.poller.unregister(conn.sock)
        if chunk:
            self._submit(conn, incoming)
        else:
            self._drop(conn)  # the client went away

    def _submit(self, conn: Any, incoming: IncomingRequest) -> None:
        """Give the whole request to a thread (or refuse it if it cannot be framed)."""
        if incoming.malformed is not None:
            self._refuse(conn, problem_response("bad-request", incoming.malformed))
            return
        del self.incoming[conn]
        conn.parser.unreader.unread(bytes(incoming.data))
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        if getattr(conn, "continue_sent", False):
            # The event loop sent it, or the body would not have come: not a second one.
            req._expected_100_continue = False  # gunicorn's own flag
            conn.continue_sent = False
        return super().handle_request(req, conn)

    def _drop(self, conn: Any) -> None:
        """Forget a connection being read and close it."""
        self.incoming.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):  # not registered
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def _send(self, conn: Any, data: bytes) -> None:
        try:
            conn.sock.send(data)  # a few hundred bytes: the socket buffer takes them at once
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EPIPE, errno.ECONNRESET):
                raise

    def murder_pending(self) -> None:
        """Also answer 408 to requests past their deadline, and close those connections.

        gunicorn calls this once a second from its event loop, and while the worker stops;
        then a request being read gets at most as long as a kept-alive connection does.
        """
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not self._stop_capped:
            self._stop_capped = True
            for incoming in self.incoming.values():
                incoming.deadline = min(incoming.deadline, now + STOP_KEEPALIVE_LINGER)
        expired = []
        for conn, incoming in self.incoming.items():
            if incoming.deadline <= now:
                expired.append((conn, incoming))
            elif self.alive:
                break  # in deadline order until the worker stops
        for conn, incoming in expired:
            if incoming.data:
                self.log.info(
                    "Request timeout: %s sent %d bytes in %g s",
                    conn.client,
                    len(incoming.data),
                    self.client_timeout,
                )
                self._refuse(conn, self.timeout_response)
            else:
                self._drop(conn)

    def _refuse(self, conn: Any, response: bytes) -> None:
        """Answer ``response`` and close the connection."""
        self._send(conn, response)
        self._discard_unread(conn)
        self._drop(conn)

    @staticmethod
    def _discard_unread(conn: Any) -> None:
        """Read what the client has sent, so that closing sends FIN, not RST.

        A socket closed with unread bytes resets the connection, and a reset can make the
        client drop the 408 before reading it.
        """
        with contextlib.suppress(OSError):  # nothing more to read, or the client is gone
            while conn.sock.recv(_RECV_SIZE):
                pass

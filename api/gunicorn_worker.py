"""The gunicorn worker of ``tracklists serve``: gthread, but no thread waits on a slow client.

gunicorn's gthread worker hands a connection to a thread as soon as its first byte arrives;
the thread then reads the headers and the body at the client's pace, with no deadline. A few
clients that send headers and a ``Content-Length`` and then trickle the body hold every thread,
and the API stops answering (issue 16). Its event loop also closes each connection that is
not kept alive "gracefully" (``gunicorn.util.close_graceful``): it half-closes it and then
*blocks* up to 2 s reading until the client closes too, so clients that send
``Connection: close`` and never close stop the whole worker 2 s each.

:class:`BufferingWorker` changes both. A thread reads what a client has sent without waiting
(non-blocking); when the request is not all there yet (the header block, and the body its
``Content-Length`` or chunked framing announces), the thread hands the connection back to the
event loop, which waits for more without a thread and gives it to a thread again when it comes.
Only a whole request goes to gunicorn's own parser, which parses it exactly as before, without
waiting for the network. A client that has not sent its whole request
``TRACKLIST_API_CLIENT_TIMEOUT`` seconds after its first byte (or after connecting) gets a
``408`` problem document and is closed; one that sent nothing is closed silently. Closing
connections linger in the event loop, non-blocking, for the same 2 s at most. A slow client so
costs a socket and its buffered bytes, never a thread or the event loop's time. Reading in the
threads, as gthread does, rather than in the event loop keeps the throughput: each ``recv``
gives up the GIL, and getting it back can take a switch interval (5 ms) that would hold up
the event loop and every connection behind it.

Framing: a request whose header block names neither ``Content-Length`` nor
``Transfer-Encoding`` has no body (RFC 9112 section 6.3), which a byte search tells (the fast
path: every GET); the others are framed by h11, incrementally, so a trickled chunked body costs
no more than a fast one. A request h11 cannot frame is answered 400 at once: where its body
ends is unknown, and a thread reading on for it would wait at the client's pace again.
Otherwise the framing only decides *when* gunicorn's parser gets the request. Should the two
still disagree, a thread's every read from and write to the client gives up after the same
timeout (``SO_RCVTIMEO``, ``SO_SNDTIMEO``).

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

#: Most bytes a single ``recv`` takes from a client.
_RECV_SIZE = 65536
#: How long a closing connection is drained before it is closed anyway (as gunicorn's own).
_LINGER = 2.0
#: What :meth:`BufferingWorker.handle` returns for a request not all there yet.
_AWAIT = object()


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
        # The first chunk as it came (usually the whole request: no copy), then a bytearray.
        self.data: bytes | bytearray = b""
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
        if not self.data:
            self.data = chunk
        else:
            if isinstance(self.data, bytes):
                self.data = bytearray(self.data)
            self.data += chunk
        if self._framer is not None:
            return self._frame(chunk)
        end = self.data.find(b"\r\n\r\n", max(0, self._scanned - 3))
        if end < 0:
            self._scanned = len(self.data)
            return len(self.data) > self._max_head
        head = self.data[:end].lower()
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
    """gthread worker whose threads never wait for a client (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections the event loop waits on for more of their request, oldest first:
        # deadlines are "first byte + timeout", so insertion order is nearly deadline order.
        self.awaiting: dict[Any, IncomingRequest] = {}
        # Closing connections and when they are closed at the latest.
        self.lingering: dict[Any, float] = {}
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

    # --- the event loop ------------------------------------------------------------------

    def enqueue_req(self, conn: Any) -> None:
        """Start on ``conn``'s next request: a thread takes what has come of it.

        gunicorn calls this for a new connection, a kept-alive one that became readable, and
        one with bytes of its next request already read (pipelined).
        """
        # A stopping worker gives a request as long as a kept-alive connection, no more.
        allowed = self.client_timeout if self.alive else STOP_KEEPALIVE_LINGER
        conn.incoming = IncomingRequest(time.monotonic() + allowed, self.max_head, self.max_body)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """After a thread: wait for more of the request, linger on a closing connection, or
        let gunicorn keep the connection alive."""
        try:
            result = False if fs.cancelled() else fs.result()
        except Exception:  # gunicorn's finish_request closes the connection
            result = None
        if result is _AWAIT:
            self.awaiting[conn] = conn.incoming
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_more, conn))
        elif result is False:
            self.nr_conns -= 1
            self._linger(conn)
        else:
            super().finish_request(conn, fs)

    def _on_more(self, conn: Any, _sock: Any) -> None:
        self.poller.unregister(conn.sock)
        del self.awaiting[conn]
        super().enqueue_req(conn)  # a thread reads what came, without waiting

    def _linger(self, conn: Any) -> None:
        """Close ``conn`` after the client has read what it was sent (RFC 9112 section 9.6).

        Half-close, then drain until the client closes or :data:`_LINGER` passes: closing at
        once with unread bytes would reset the connection, which can lose the answer.
        """
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger, conn))
        except (OSError, ValueError):
            conn.close()  # already gone
            return
        self.lingering[conn] = time.monotonic() + _LINGER

    def _on_linger(self, conn: Any, _sock: Any) -> None:
        try:
            if conn.sock.recv(_RECV_SIZE):
                return  # drained; wait for the close
        except BlockingIOError:
            return
        except OSError:
            pass  # reset: as good as closed
        self._close_lingering(conn)

    def _close_lingering(self, conn: Any) -> None:
        del self.lingering[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        conn.close()

    def murder_pending(self) -> None:
        """Also end requests past their deadline (408) and lingering closes past theirs.

        gunicorn calls this about once a second from its event loop, and while the worker
        stops; then a request being read gets at most as long as a kept-alive connection.
        """
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not self._stop_capped:
            self._stop_capped = True
            for incoming in self.awaiting.values():
                incoming.deadline = min(incoming.deadline, now + STOP_KEEPALIVE_LINGER)
        expired = [conn for conn, incoming in self.awaiting.items() if incoming.deadline <= now]
        for conn in expired:
            incoming = self.awaiting.pop(conn)
            self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            if incoming.data:
                self.log.info(
                    "Request timeout: %s sent %d bytes in %g s",
                    conn.client,
                    len(incoming.data),
                    self.client_timeout,
                )
                self._send(conn, self.timeout_response)
                self._linger(conn)
            else:
                conn.close()
        for conn in [conn for conn, deadline in self.lingering.items() if deadline <= now]:
            self._close_lingering(conn)

    # --- the worker threads --------------------------------------------------------------

    def handle(self, conn: Any) -> Any:
        """Read what has come of the request; handle it once whole, else hand it back."""
        incoming = conn.incoming
        if incoming is not None:
            outcome = self._receive(conn, incoming)
            if outcome is not None:
                return outcome
            conn.incoming = None
            data = incoming.data
            conn.parser.unreader.unread(data if isinstance(data, bytes) else bytes(data))
        return super().handle(conn)

    def _receive(self, conn: Any, incoming: IncomingRequest) -> object | None:
        """Take what the client has sent, without waiting: None once the request is whole,
        :data:`_AWAIT` while it is not, False to close the connection."""
        if not conn.initialized:
            conn.init()  # the HTTP/1.1 parser
            # The safety net for a thread that reads or writes past the whole request.
            seconds = int(self.client_timeout)
            micros = int((self.client_timeout - seconds) * 1_000_000)
            limit = struct.pack("ll", seconds, micros)  # struct timeval
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        if conn.sock.getblocking():  # new (gunicorn leaves kept-alive ones non-blocking)
            conn.sock.setblocking(False)
        pipelined = conn.parser.unreader.take_buffered()
        whole = bool(pipelined) and incoming.feed(pipelined)
        while not whole:
            try:
                chunk = conn.sock.recv(_RECV_SIZE)
            except BlockingIOError:
                if incoming.wants_continue:
                    incoming.wants_continue = False
                    conn.continue_sent = True
                    self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
                return _AWAIT
            except OSError:
                return False  # reset
            if not chunk:
                return False  # the client went away
            whole = incoming.feed(chunk)
        if incoming.malformed is not None:
            self._send(conn, problem_response("bad-request", incoming.malformed))
            return False
        return None

    def handle_request(self, req: Any, conn: Any) -> Any:
        if getattr(conn, "continue_sent", False):
            # Sent already, or the body would not have come: not a second one.
            req._expected_100_continue = False  # gunicorn's own flag
            conn.continue_sent = False
        return super().handle_request(req, conn)

    @staticmethod
    def _send(conn: Any, data: bytes) -> None:
        """Send a short answer on a non-blocking socket: its buffer takes it at once."""
        try:
            conn.sock.send(data)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EPIPE, errno.ECONNRESET):
                raise

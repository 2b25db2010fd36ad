"""When the event loop of ``api.gunicorn_worker`` hands a request to a thread."""

from __future__ import annotations

from api.gunicorn_worker import IncomingRequest

MAX_HEAD, MAX_BODY = 8192, 1024


def _incoming() -> IncomingRequest:
    return IncomingRequest(deadline=0, max_head=MAX_HEAD, max_body=MAX_BODY)


def _fed_byte_by_byte(message: bytes) -> list[int]:
    """The positions after which ``feed`` said the request was whole."""
    incoming = _incoming()
    return [n for n in range(len(message)) if incoming.feed(message[n : n + 1])]


def test_a_request_without_a_body_is_whole_at_the_end_of_its_headers() -> None:
    get = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Mentions-Content-Length-In-Value: no\r\n\r\n"
    assert _fed_byte_by_byte(get) == [len(get) - 1]
    assert _incoming().feed(get)


def test_a_body_of_known_length_is_waited_for() -> None:
    post = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    assert _fed_byte_by_byte(post) == [len(post) - 1]


def test_a_chunked_body_is_waited_for_up_to_its_last_chunk() -> None:
    post = (
        b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n4\r\n\r\n\r\n\r\n0\r\n\r\n"
    )
    assert _fed_byte_by_byte(post) == [len(post) - 1]


def test_a_body_h11_cannot_frame_is_refused_at_once() -> None:
    for head in (
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n",  # HTTP/1.1 without Host
        b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    ):
        incoming = _incoming()
        assert incoming.feed(head)
        assert incoming.malformed
    get = _incoming()
    assert get.feed(b"GET / HTTP/1.1\r\n\r\n")  # no body: gunicorn's parser decides
    assert get.malformed is None


def test_requests_gunicorn_refuses_go_to_it_at_once() -> None:
    too_long = b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1)
    assert _incoming().feed(too_long)
    endless_head = _incoming()
    assert not endless_head.feed(b"GET / HTTP/1.1\r\n")
    assert endless_head.feed(b"X: y\r\n" * (MAX_HEAD // 6 + 1))


def test_a_client_expecting_100_continue_is_noticed() -> None:
    incoming = _incoming()
    head = b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    assert not incoming.feed(head)
    assert incoming.wants_continue
    assert incoming.feed(b"{}")

"""Request ids: a client's X-Request-ID is echoed; a missing or unsafe one is replaced."""

from __future__ import annotations

import multiprocessing
import re

import pytest
from flask.testing import FlaskClient

from api.request_ids import new_request_id


def test_given_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123.x:y"})
    assert response.headers["X-Request-ID"] == "abc-123.x:y"


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 101, "inject\r\nSet-Cookie: a=b"])
def test_missing_or_unsafe_ids_are_replaced(client: FlaskClient, given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    try:
        response = client.get("/health", headers=headers)
    except ValueError:
        return  # werkzeug itself refuses header values with newlines before we see them
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def _send_id(queue: multiprocessing.Queue[str]) -> None:
    queue.put(new_request_id())


def test_made_up_ids_differ_between_requests_and_forked_workers() -> None:
    assert len({new_request_id() for _ in range(10_000)}) == 10_000
    # gunicorn forks its workers: each must draw its own ids, not the parent's sequence.
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    children = [context.Process(target=_send_id, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    drawn = {queue.get(timeout=30) for _ in children}
    for child in children:
        child.join(timeout=30)
    drawn.add(new_request_id())
    assert len(drawn) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in drawn)

"""Request ids: a client's X-Request-ID is echoed; a missing or unsafe one is replaced."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient


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

"""Constants and helpers the API tests share (conftest.py holds the fixtures)."""

from __future__ import annotations

PASSWORD = "correct horse battery"
PREFIX = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}

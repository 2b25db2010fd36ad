"""Constants and helpers the API tests share (conftest.py holds the fixtures)."""

from __future__ import annotations

import os
import secrets

REDIS_URL = os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
JWT_SECRET = secrets.token_hex(32)
PASSWORD = "correct horse battery"
PREFIX = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}

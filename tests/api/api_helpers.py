"""Constants and helpers the API tests share (conftest.py holds the fixtures)."""

from __future__ import annotations

import base64
import json
import os
import secrets
from typing import Any

REDIS_URL = os.environ.get("TRACKLIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
JWT_SECRET = secrets.token_hex(32)
PASSWORD = "correct horse battery"
PREFIX = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def decode_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (tests read what the server put in its own tokens)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims

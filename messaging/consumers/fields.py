"""Reading fields of a message body: a wrong field is :class:`Malformed`, naming it."""

from __future__ import annotations

from typing import Any

from messaging.consumers.runner import Malformed


def text(body: dict[str, Any], name: str, *, max_length: int, default: str | None = None) -> str:
    """A non-blank string field (``default`` when absent, if given)."""
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise Malformed(f"{name} must be a non-empty string")
    if len(value) > max_length:
        raise Malformed(f"{name} is longer than {max_length} characters")
    return value.strip()


def integer(body: dict[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    """An integer field within ``[low, high]``."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Malformed(f"{name} must be an integer from {low} to {high}")
    return value


def flag(body: dict[str, Any], name: str) -> bool:
    """A boolean field, false when absent."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise Malformed(f"{name} must be true or false")
    return value

"""Fixtures of the system suite (defined in system_fixtures, importable by its tests)."""

from system_fixtures import private_redis, system

__all__ = ["private_redis", "system"]

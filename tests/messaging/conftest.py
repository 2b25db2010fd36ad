"""Fixtures of the consumer tests (defined in consumer_support, shared by every test here)."""

from consumer_support import broker, database, sessions

__all__ = ["broker", "database", "sessions"]

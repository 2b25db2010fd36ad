"""Persistence: models, sessions, migrations, queries, and the state kept in Redis.

SQLAlchemy 2 models (:mod:`store.models`) and sessions (:mod:`store.db`), Alembic migrations,
read queries (:mod:`store.plays`), the crawl queue, the outbox writer (:mod:`store.outbox`),
heartbeats, and the Redis-backed counters and per-process copies the API's cache and rate
limits use. Imports only the pure layer and :mod:`config`.
"""

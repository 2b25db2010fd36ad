"""Fixtures of the end-to-end tests: the local replay site and a migrated PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crawler.localsite import LocalSite, robots_txt
from store.db import make_engine
from store.migrate import upgrade


@pytest.fixture
def site(real_pages: Path) -> Iterator[LocalSite]:
    """The real pages served on 127.0.0.1, with a robots.txt that sets no Crawl-delay."""
    with LocalSite.from_directories([real_pages], robots_txt=robots_txt(crawl_delay=None)) as local:
        yield local


@pytest.fixture
def database(postgres_url: str) -> Iterator[Engine]:
    """An engine on a new PostgreSQL database migrated to head."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()

"""Response cache keys: one per distinct request, whether or not the digest was remembered."""

from __future__ import annotations

from datetime import date

from flask import Flask

from api.cache import cache_key
from config.settings import Settings


def test_keys_differ_by_part_and_carry_the_apps_prefix(app: Flask, api_settings: Settings) -> None:
    with app.app_context():
        first = cache_key("tracklist", "id-1", 3, "2026-11-24T10:00:00", True)
        again = cache_key("tracklist", "id-1", 3, "2026-11-24T10:00:00", True)
        other = cache_key("tracklist", "id-1", 4, "2026-11-24T10:00:00", True)
    assert first == again
    assert first != other
    assert first.startswith(f"{api_settings.cache_key_prefix}cache:tracklist:")


def test_equal_parts_of_different_types_keep_different_keys(app: Flask) -> None:
    # True == 1 as dict keys, but the cached responses differ (a flag vs a page number).
    with app.app_context():
        flag = cache_key("search", "dj", True)
        number = cache_key("search", "dj", 1)
    assert flag != number


def test_unhashable_parts_give_the_same_key_as_their_tuple(app: Flask) -> None:
    with app.app_context():
        as_list = cache_key("search", 7, "dj", "carl cox", 1, 20, [None, date(2026, 1, 1)])
        as_tuple = cache_key("search", 7, "dj", "carl cox", 1, 20, (None, date(2026, 1, 1)))
    assert as_list == as_tuple

"""The per-process copy of cached responses: expiry, size bound, hit bookkeeping."""

from __future__ import annotations

import time

from store.near_cache import NearCache


def test_a_body_is_kept_until_its_deadline() -> None:
    near = NearCache()
    near.put("k", b"body", 0.2)
    assert near.get("k") == b"body"
    assert near.get("other") is None
    time.sleep(0.25)
    assert near.get("k") is None


def test_going_over_the_size_bound_starts_afresh() -> None:
    near = NearCache(max_bytes=10)
    near.put("a", b"12345", 60)
    near.put("b", b"12345", 60)
    near.put("b", b"54321", 60)  # replacing a body does not count it twice
    assert (near.get("a"), near.get("b")) == (b"12345", b"54321")
    near.put("c", b"x", 60)
    assert (near.get("a"), near.get("b"), near.get("c")) == (None, None, b"x")


def test_clear_forgets_every_body() -> None:
    near = NearCache()
    near.put("a", b"1", 60)
    near.clear()
    assert near.get("a") is None


def test_hits_are_handed_over_once_and_given_back_on_failure() -> None:
    near = NearCache()
    for _ in range(3):
        near.count_hit("search")
    near.count_hit("tracklist")
    assert near.take_hits("search") == 3
    assert near.take_hits("search") == 0
    near.give_back_hits("search", 3)  # Redis failed: counted next time
    assert (near.take_hits("search"), near.take_hits("tracklist")) == (3, 1)

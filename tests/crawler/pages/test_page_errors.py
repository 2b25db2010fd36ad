"""Parser errors keep their type and message through pickling (parsing in worker processes)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from crawler.pages import BlockedPage, ParseError, parse_page


def test_errors_survive_pickling_for_process_pools(real_pages: Path) -> None:
    for body in (
        b"{}",
        (real_pages / "challenge_jsforward_tracklist-2hjnqr0t_2023.html").read_bytes(),
    ):
        with pytest.raises((ParseError, BlockedPage)) as info:
            parse_page(body)
        copy = pickle.loads(pickle.dumps(info.value))
        assert type(copy) is type(info.value)
        assert (str(copy), copy.page_type) == (str(info.value), info.value.page_type)

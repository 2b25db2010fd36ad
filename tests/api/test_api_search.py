"""Search on real PostgreSQL (fuzzy, accent-insensitive) and SQLite (substring), cached in Redis."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_data import PAGINATED_SETS, Catalogue, page, store_page
from api_helpers import PREFIX, bearer
from flask.testing import FlaskClient
from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session, sessionmaker

from api import create_app
from config.settings import Settings
from service.search import candidates
from store.db import make_engine, make_session_factory
from store.migrate import upgrade


def _search(client: FlaskClient, **params: Any) -> Any:
    response = client.get(f"{PREFIX}/search/", query_string=params)
    assert response.status_code == 200, response.json
    return response


def _ours(body: dict[str, Any], catalogue: Catalogue) -> set[str]:
    """The names (in the catalogue) of the tracklists found."""
    by_id = {str(value): name for name, value in catalogue.ids.items()}
    return {by_id[row["id"]] for row in body["results"] if row["id"] in by_id}


def test_tiesto_finds_tiesto_without_the_accent(client: FlaskClient, catalogue: Catalogue) -> None:
    body = _search(client, query="tiesto", search_type="dj").json
    assert _ours(body, catalogue) == {"tiesto-tomorrowland", "tiesto-ultra"}
    first = body["results"][0]
    assert first["dj_name"] == "Tiësto"
    assert first["matched"] == "Tiësto"
    assert first["event_name"] == "Tomorrowland"  # newest first among equal scores
    assert first["date"] == "2024-07-20"
    assert first["score"] == pytest.approx(1.0)
    assert first["url"] == catalogue.url("tiesto-tomorrowland")


@pytest.mark.parametrize("query", ["carl coxx", "CARL COX", "Carl  Cox", "karl cox"])
def test_carl_cox_despite_typos_and_case(
    client: FlaskClient, catalogue: Catalogue, query: str
) -> None:
    body = _search(client, query=query, search_type="dj").json
    assert _ours(body, catalogue) == {"cox-timewarp", "cox-space", "cox-beyer-awakenings"}
    b2b = next(
        row for row in body["results"] if row["id"] == str(catalogue.ids["cox-beyer-awakenings"])
    )
    assert b2b["dj_name"] == "Carl Cox & Adam Beyer"
    assert [dj["name"] for dj in b2b["djs"]] == ["Carl Cox", "Adam Beyer"]


def test_event_search_is_fuzzy_too(client: FlaskClient, catalogue: Catalogue) -> None:
    assert _ours(_search(client, query="tomorowland", search_type="event").json, catalogue) == {
        "tiesto-tomorrowland"
    }
    time_warp = _search(client, query="time warp", search_type="event").json
    assert _ours(time_warp, catalogue) == {"cox-timewarp", "vath-timewarp"}


def test_track_search_finds_the_sets_that_played_it(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    body = _search(client, query="revolution continues", search_type="track", limit=100).json
    assert {"cox-timewarp", "tiesto-ultra", "vath-timewarp"} <= _ours(body, catalogue)
    assert body["results"][0]["matched"] == "Carl Cox - The Revolution Continues"


@pytest.mark.parametrize(
    ("query", "matched"),
    [
        ("revolution continus", "Carl Cox - The Revolution Continues"),  # a typo in one word
        ("REVOLUTON", "Carl Cox - The Revolution Continues"),  # a letter dropped
        ("cox revolution", "Carl Cox - The Revolution Continues"),  # artist and title words
        ("ulyses", "Bart Skils - Ulysses"),
        ("revolutioncontinues", "Carl Cox - The Revolution Continues"),  # words run together
        ("revolution continues zq", "Carl Cox - The Revolution Continues"),  # a stray short word
    ],
)
def test_track_search_takes_typos_word_by_word(
    client: FlaskClient, catalogue: Catalogue, query: str, matched: str
) -> None:
    body = _search(client, query=query, search_type="track", limit=100).json
    assert {"cox-timewarp", "tiesto-ultra", "vath-timewarp"} <= _ours(body, catalogue)
    assert body["results"][0]["matched"] == matched


def test_track_search_needs_every_word(client: FlaskClient, catalogue: Catalogue) -> None:
    # "zzqqxx" resembles no word of the catalogue, and the whole query no track's name.
    body = _search(client, query="revolution zzqqxx", search_type="track").json
    assert (body["total"], body["results"]) == (0, [])


def test_short_track_queries_never_match_whole_names(
    client: FlaskClient, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scan(*_args: Any) -> None:
        raise AssertionError("a two-letter query must not be matched inside whole names")

    monkeypatch.setattr(candidates, "_within_time", scan)
    body = _search(client, query="zq", search_type="track").json
    assert body["total"] == 0


def test_whole_name_track_matching_gives_up_in_time(
    store_sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(candidates, "TRACK_NAME_MATCH_TIMEOUT_MS", 50)
    slow = select(func.pg_sleep(2), literal(1), literal(1.0))
    with store_sessions() as session, session.begin(), caplog.at_level(logging.WARNING):
        started = time.monotonic()
        assert candidates._within_time(session, slow, "some query") == ()
        assert time.monotonic() - started < 1.5
        # Only the savepoint was rolled back: the transaction goes on, without the limit.
        assert session.scalar(text("SHOW statement_timeout")) == "0"
        assert session.scalar(select(literal(1))) == 1
    assert "gave up after 50 ms" in caplog.text
    with store_sessions() as session, session.begin():
        quick = select(literal(7), literal("x"), literal(0.5))
        assert [tuple(row) for row in candidates._within_time(session, quick, "q")] == [
            (7, "x", 0.5)
        ]
        assert session.scalar(text("SHOW statement_timeout")) == "0"


def test_pagination_reports_totals(client: FlaskClient, catalogue: Catalogue) -> None:
    query = f"pager person {catalogue.token}"
    pages = [
        _search(client, query=query, search_type="dj", limit=10, page=number).json
        for number in (1, 2, 3, 4)
    ]
    assert [len(body["results"]) for body in pages] == [10, 10, 5, 0]
    assert {body["total"] for body in pages} == {PAGINATED_SETS}
    assert {body["pages"] for body in pages} == {3}
    assert [body["has_more"] for body in pages] == [True, True, False, False]
    dates = [row["date"] for body in pages for row in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert len(set(dates)) == PAGINATED_SETS


def test_dj_and_event_slug_lists(client: FlaskClient, catalogue: Catalogue) -> None:
    token = catalogue.token
    response = client.get(f"{PREFIX}/search/dj/pager{token}", query_string={"limit": 7, "page": 4})
    assert response.status_code == 200
    body = response.json
    assert (body["total"], body["pages"], len(body["results"])) == (PAGINATED_SETS, 4, 4)
    assert body["results"][-1]["date"] == "2020-01-01"
    assert {row["score"] for row in body["results"]} == {None}
    event = client.get(f"{PREFIX}/search/event/time-warp{token}").json
    assert _ours(event, catalogue) == {"cox-timewarp", "vath-timewarp"}
    assert event["results"][-1]["date"] is None  # undated sets come last
    missing = client.get(f"{PREFIX}/search/dj/nobody-{token}")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"


def test_date_filters(client: FlaskClient, catalogue: Catalogue) -> None:
    token = catalogue.token
    window = {"start_date": "2020-01-05", "end_date": "2020-01-09"}
    body = client.get(f"{PREFIX}/search/dj/pager{token}", query_string=window).json
    assert body["total"] == 5
    assert {row["date"] for row in body["results"]} == {f"2020-01-0{d}" for d in range(5, 10)}
    cox = _search(client, query="carl cox", start_date="2019-01-01").json
    assert _ours(cox, catalogue) == {"cox-timewarp", "cox-beyer-awakenings"}
    early = _search(client, query="carl cox", end_date="2018-12-31").json
    assert _ours(early, catalogue) == {"cox-space"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query"),
        ({"query": "!!!"}, "query"),
        ({"query": "x" * 201}, "query"),
        ({"query": "cox", "limit": 101}, "limit"),
        ({"query": "cox", "limit": 0}, "limit"),
        ({"query": "cox", "page": 0}, "page"),
        ({"query": "cox", "search_type": "venue"}, "search_type"),
        ({"query": "cox", "start_date": "2024-13-01"}, "start_date"),
        ({"query": "cox", "start_date": "2024-02-01", "end_date": "2024-01-31"}, "end_date"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: FlaskClient, params: dict[str, Any], field: str
) -> None:
    response = client.get(f"{PREFIX}/search/", query_string=params)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == [field]


def test_search_is_cached_until_a_tracklist_changes(
    client: FlaskClient,
    catalogue: Catalogue,
    store_sessions: sessionmaker[Session],
    login: Any,
) -> None:
    name = f"Cache Probe {uuid.uuid4().hex}"
    query = {"query": name}
    first = _search(client, **query)
    assert (first.headers["X-Cache"], first.json["total"]) == ("MISS", 0)
    again = _search(client, **query)
    assert again.headers["X-Cache"] == "HIT"
    assert again.data == first.data
    # A crawl stores a set of that DJ: the next search sees it at once.
    store_page(
        store_sessions,
        page(uuid.uuid4().hex[:12], [(name, f"probe{uuid.uuid4().hex}")], None, None),
    )
    after = _search(client, **query)
    assert (after.headers["X-Cache"], after.json["total"]) == ("MISS", 1)
    stats = client.get(f"{PREFIX}/admin/stats", headers=bearer(login("admin")["access_token"]))
    assert stats.json["cache"]["search"] == {
        "hits": 1,
        "misses": 2,
        "hit_rate": pytest.approx(1 / 3, abs=1e-3),
    }
    metrics = client.get("/metrics").text
    assert 'tracklists_cache_requests_total{cache="search",result="hit"} 1.0' in metrics


def test_sqlite_matches_substrings_without_accents_but_no_typos(
    api_settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'search.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store_page(
        make_session_factory(engine),
        page("s1", [("Tiësto", "tiesto")], ("Tomorrowland", "tml"), "2024-07-20"),
    )
    engine.dispose()
    app = create_app(api_settings, database_url=url)
    client = app.test_client()
    found = _search(client, query="TIESTO").json
    assert [row["dj_name"] for row in found["results"]] == ["Tiësto"]
    assert _search(client, query="tomorrow", search_type="event").json["total"] == 1
    assert _search(client, query="tiestoo").json["total"] == 0  # no trigram typo tolerance

"""The listing spiders (latest, dj, search) against the local replay site into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support.crawling import crawl_env, run_spider

from crawler.localsite import LocalSite
from crawler.localsite.pages import JSON_TYPE, Page
from crawler.localsite.synthetic import serve_tracklist_as
from crawler.pages import ListingPage, parse_page
from store.models import Tracklist

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[1] / "crawler" / "pages" / "fixtures"
TEMPLATE = "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"


def _listed(real_pages: Path, name: str) -> ListingPage:
    page = parse_page((real_pages / name).read_bytes())
    assert isinstance(page, ListingPage)
    return page


def _stored_ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(Tracklist.site_id)))


def test_latest_follows_every_listed_tracklist(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    home = _listed(real_pages, "home_2022-11-13.html")
    template = (real_pages / TEMPLATE).read_bytes()
    for row in home.results:
        serve_tracklist_as(site.store, template, row.url)
    result = run_spider("latest", crawl_env(site.base_url, postgres_url, redis_url))
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_ids(database) == {row.tracklist_id for row in home.results}
    assert [r.path for r in site.requests()][:2] == ["/robots.txt", "/"]


def test_dj_walks_the_index_and_its_load_more_pages(
    site: LocalSite, database: Engine, postgres_url: str, redis_url: str, real_pages: Path
) -> None:
    index = _listed(real_pages, "dj_adam-beyer_page1.excerpt.html")
    more = json.loads((FIXTURES / "dj_load_more.json").read_text())
    more["end"] = True  # the last batch
    site.store.add(
        "POST",
        "/ajax/get_data.php",
        Page(body=json.dumps(more).encode(), headers=(("Content-Type", JSON_TYPE),)),
    )
    extra = _listed_json(more)
    template = (real_pages / TEMPLATE).read_bytes()
    for row in (*index.results, *extra.results):
        serve_tracklist_as(site.store, template, row.url)
    result = run_spider("dj", crawl_env(site.base_url, postgres_url, redis_url), "dj=adam-beyer")
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {row.tracklist_id for row in (*index.results, *extra.results)}
    assert _stored_ids(database) == expected
    posts = site.requests("/ajax/get_data.php", method="POST")
    assert len(posts) == 1
    assert b"dj=q43lgd" in posts[0].body  # the DJ's internal id from the index page
    assert f"pos={len(index.results)}".encode() in posts[0].body


def _listed_json(value: dict[str, object]) -> ListingPage:
    page = parse_page(json.dumps(value))
    assert isinstance(page, ListingPage)
    return page


def test_search_pages_through_results(
    site: LocalSite,
    database: Engine,
    postgres_url: str,
    redis_url: str,
    real_pages: Path,
    tmp_path: Path,
) -> None:
    output = tmp_path / "results.json"
    result = run_spider(
        "search",
        crawl_env(site.base_url, postgres_url, redis_url),
        "query=Time Warp 2024",
        "max_pages=2",
        settings={"FEEDS": json.dumps({str(output): {"format": "json"}})},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())
    expected = json.loads((real_pages / "expected" / "search_time-warp-2024.json").read_text())
    assert rows == expected["results"]
    posts = site.requests("/search/result.php", method="POST")
    # Page 1 said there is a next page, so page 2 was asked for (the replay has none: 404).
    assert [b"page=1" in p.body for p in posts] == [True, False]
    assert b"page=2" in posts[1].body
    with Session(database) as session:
        assert session.scalar(select(func.count()).select_from(Tracklist)) == 0  # follow is off

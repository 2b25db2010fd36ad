"""The data endpoints as deployed: ``tracklists serve`` (gunicorn, 2 workers), real services.

The cache is shared by the workers (Redis), so a response cached by one is a hit on the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from api_data import SITE, Catalogue
from api_helpers import PASSWORD, PREFIX, bearer
from test_api_gunicorn import Server, _add_admin
from test_api_gunicorn import server as server  # the fixture


@pytest.fixture
def http(server: Server) -> Iterator[requests.Session]:
    """A session with an admin token (the anonymous limit of the server fixture is small)."""
    username = _add_admin(server)
    session = requests.Session()
    token = session.post(
        f"{server.url}{PREFIX}/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    ).json()["access_token"]
    session.headers.update(bearer(token))
    yield session
    session.close()


def test_fuzzy_search_and_cache_across_workers(
    server: Server, http: requests.Session, catalogue: Catalogue
) -> None:
    params = {"query": "tiesto", "search_type": "dj", "limit": 100}
    caches = []
    for _ in range(6):
        # A new connection each time, so both workers answer.
        response = requests.get(
            f"{server.url}{PREFIX}/search/", params=params, headers=http.headers, timeout=10
        )
        assert response.status_code == 200, response.text
        caches.append(response.headers["X-Cache"])
        ids = {row["id"] for row in response.json()["results"]}
        assert {
            str(catalogue.ids["tiesto-ultra"]),
            str(catalogue.ids["tiesto-tomorrowland"]),
        } <= ids
    assert caches == ["MISS"] + ["HIT"] * 5
    coxx = http.get(f"{server.url}{PREFIX}/search/", params={"query": "carl coxx"}, timeout=10)
    assert coxx.json()["results"][0]["dj_name"].startswith("Carl Cox")


def test_tracklist_crawl_request_and_cue_through_gunicorn(
    server: Server, http: requests.Session, catalogue: Catalogue
) -> None:
    tracklist_id = catalogue.ids["cox-timewarp"]
    first = http.get(f"{server.url}{PREFIX}/tracklist/{tracklist_id}", timeout=10)
    second = requests.get(f"{server.url}{PREFIX}/tracklist/{tracklist_id}", timeout=10)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == second.json()
    assert first.json()["tracks"][1]["timestamp"]["formatted_time"] == "03:05"

    url = f"{SITE}/tracklist/{uuid.uuid4().hex[:10]}/nobody.html"
    queued = http.post(f"{server.url}{PREFIX}/tracklist", json={"url": url}, timeout=10)
    assert queued.status_code == 202
    status = requests.get(f"{server.url}{queued.headers['Location']}", timeout=10)
    assert status.json()["status"] == "queued"

    cue = http.post(
        f"{server.url}{PREFIX}/cue/generate",
        json={"tracklist_id": str(tracklist_id), "format": "standard"},
        timeout=10,
    )
    assert cue.status_code == 201, cue.text
    download = requests.get(f"{server.url}{cue.json()['download_url']}", timeout=10)
    assert download.headers["Content-Type"] == "application/x-cue; charset=utf-8"
    assert download.content == cue.json()["cue_content"].encode()

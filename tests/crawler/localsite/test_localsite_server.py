"""The local replay site serves the real pages, robots.txt and rules, and logs every request."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from crawler.localsite import LocalSite, Rule, http_date, robots_txt
from crawler.localsite.pages import PageStore, strip_header_dump

pytestmark = pytest.mark.programs

BICEP = "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def site(real_pages: Path) -> Iterator[LocalSite]:
    with LocalSite.from_directories([real_pages]) as running:
        yield running


def test_real_pages_are_served_at_their_canonical_path(site: LocalSite, real_pages: Path) -> None:
    response = requests.get(site.url(BICEP), timeout=5)
    assert response.status_code == 200
    expected = (real_pages / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html").read_bytes()
    assert response.content == expected
    # The 2021 page's canonical id differs from its file name: the canonical URL wins.
    assert requests.get(site.url("/tracklist/nsgpmht/curbi-tape-06-2021-03-12.html"), timeout=5).ok
    assert requests.get(site.url("/"), timeout=5).ok
    assert requests.get(site.url("/artist/adam-beyer/tracklists.html"), timeout=5).ok
    media = requests.get(site.url("/ajax/get_medialink.php?idObject=5&idItem=909720"), timeout=5)
    assert media.headers["Content-Type"] == "application/json"
    assert requests.get(site.url("/tracklist/nope/missing.html"), timeout=5).status_code == 404


def test_antibot_pages_never_shadow_the_pages_they_stand_for(site: LocalSite) -> None:
    body = requests.get(site.url(BICEP), timeout=5).text
    assert "tlpItem" in body
    assert "forwared" not in body
    assert set(site.store.antibot) == {"challenge", "captcha", "ip_blocked"}


def test_search_answers_the_recorded_query_and_nothing_beyond_page_1(site: LocalSite) -> None:
    url = site.url("/search/result.php")
    found = requests.post(url, data={"main_search": "amelie lens  AWAKENINGS"}, timeout=5)
    assert 'value="Amelie Lens Awakenings"' in found.text
    other = requests.post(url, data={"main_search": "anything else", "page": "1"}, timeout=5)
    assert other.status_code == 200
    assert requests.post(url, data={"main_search": "x", "page": "2"}, timeout=5).status_code == 404


def test_robots_txt_default_mirrors_the_site_and_can_change(site: LocalSite) -> None:
    text = requests.get(site.url("/robots.txt"), timeout=5).text
    assert text.splitlines()[:3] == ["User-agent: *", "Allow: /", "Crawl-delay: 8"]
    for path in ("/js/", "/user/", "/action/", "/projects/"):
        assert f"Disallow: {path}" in text
    site.robots_txt = robots_txt(crawl_delay=0.5, disallow=("/private/",))
    assert "Crawl-delay: 0.5" in requests.get(site.url("/robots.txt"), timeout=5).text
    site.add_rule("/robots.txt", Rule(status=503, times=1))
    assert requests.get(site.url("/robots.txt"), timeout=5).status_code == 503
    assert requests.get(site.url("/robots.txt"), timeout=5).status_code == 200
    site.robots_txt = None
    assert requests.get(site.url("/robots.txt"), timeout=5).status_code == 404


def test_rules_retry_after_slow_errors_and_challenges(site: LocalSite) -> None:
    date = http_date(time.time() + 30)
    site.add_rule("/tracklist/*", Rule(status=503, retry_after=date, times=1))
    site.add_rule("/tracklist/*", Rule(status=429, retry_after="7", times=1))
    first = requests.get(site.url(BICEP), timeout=5)
    second = requests.get(site.url(BICEP), timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert (second.status_code, second.headers["Retry-After"]) == (503, date)
    site.add_rule(BICEP, Rule(status=503, retry_after_date_in=60, times=1))
    answered = time.time()
    retry_at = requests.get(site.url(BICEP), timeout=5).headers["Retry-After"]
    assert abs(parsedate_to_datetime(retry_at).timestamp() - (answered + 60)) <= 1.5
    assert requests.get(site.url(BICEP), timeout=5).status_code == 200

    site.add_rule("/slow", Rule(delay=0.4, status=200, body=b"late"))
    started = time.monotonic()
    assert requests.get(site.url("/slow"), timeout=5).content == b"late"
    assert time.monotonic() - started >= 0.4

    site.add_rule("/tracklist/l3uw499/*", Rule(antibot="challenge"))
    challenge = requests.get(
        site.url("/tracklist/l3uw499/matroda-club-space-miami-united-states-2023-08-05.html"),
        timeout=5,
    )
    assert challenge.status_code == 200
    assert "you will be forwa" in challenge.text

    site.add_rule("/gone", Rule(drop_connection=True))
    with pytest.raises(requests.ConnectionError):
        requests.get(site.url("/gone"), timeout=5)


def test_every_request_is_logged_with_time_and_headers(site: LocalSite) -> None:
    headers = {"User-Agent": "TestBot/1 (+mailto:ops@example.org)"}
    requests.get(site.url(BICEP), headers=headers, timeout=5)
    requests.post(site.url("/search/result.php"), data={"main_search": "a"}, timeout=5)
    log = site.requests()
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", BICEP, 200),
        ("POST", "/search/result.php", 200),
    ]
    assert log[0].user_agent == headers["User-Agent"]
    assert log[1].body == b"main_search=a"
    assert log[0].time <= log[1].time
    assert site.requests(path="/search/result.php", method="POST") == [log[1]]
    site.clear_log()
    assert site.requests() == []


def test_a_site_on_the_ipv6_loopback_logs_what_reaches_it() -> None:
    with LocalSite(host="::1") as ipv6:
        assert ipv6.base_url == f"http://[::1]:{ipv6.port}"
        assert requests.get(ipv6.url("/robots.txt"), timeout=5).ok
        assert [r.path for r in ipv6.requests()] == ["/robots.txt"]
        assert ipv6.requests()[0].client[0] == "::1"


def test_manifest_and_cassette_sources(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n<p>a</p>")
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "/a.html": "a.html",
                "POST /form": {"file": "a.html", "status": 201, "match": {"q": "x"}},
            }
        )
    )
    cassette = {
        "http_interactions": [
            {
                "request": {
                    "method": "GET",
                    "uri": "https://www.1001tracklists.com/c.html?x=1",
                    "body": {"encoding": "utf-8", "string": ""},
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["text/plain"], "Content-Length": ["3"]},
                    "body": {"encoding": "utf-8", "base64_string": "Y2Nj"},
                    "url": "https://www.1001tracklists.com/c.html?x=1",
                },
                "recorded_at": "2026-11-24T00:00:00",
            }
        ],
        "recorded_with": "betamax/0.9.0",
    }
    (tmp_path / "rec.json").write_text(json.dumps(cassette))
    store = PageStore()
    store.load_directory(tmp_path)
    assert store.routes() == ["GET /a.html", "GET /c.html?x=1", "POST /form"]
    with LocalSite(store) as site:
        assert requests.get(site.url("/a.html"), timeout=5).content == b"<p>a</p>"
        assert requests.post(site.url("/form"), data={"q": "x"}, timeout=5).status_code == 201
        assert requests.post(site.url("/form"), data={"q": "z"}, timeout=5).status_code == 404
        replay = requests.get(site.url("/c.html?x=1"), timeout=5)
        assert (replay.content, replay.headers["Content-Type"]) == (b"ccc", "text/plain")


def test_header_dump_is_stripped() -> None:
    assert strip_header_dump(b"HTTP/1.1 206 Partial\nA: b\n\n<html>") == b"<html>"
    assert strip_header_dump(b"<html>HTTP/1.1") == b"<html>HTTP/1.1"


def test_cli_serves_a_folder(real_pages: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.localsite", "--pages", str(real_pages), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = banner.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert requests.get(base_url + BICEP, timeout=5).ok
        assert "Crawl-delay: 8" in requests.get(base_url + "/robots.txt", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=5)

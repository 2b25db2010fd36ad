"""``tracklists record`` writes a cassette the local site replays (recorded from the local site)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cli.main import main
from crawler.localsite import LocalSite, Rule, robots_txt

pytestmark = pytest.mark.programs

BICEP = "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
HOME = "/"


def test_record_then_replay(
    real_pages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKLIST_SCRAPING_USER_AGENT", "Recorder/1 (+mailto:ops@example.org)")
    with LocalSite.from_directories(
        [real_pages], robots_txt=robots_txt(crawl_delay=0.3, disallow=("/user/",))
    ) as site:
        result = CliRunner().invoke(
            main,
            [
                "record",
                "--cassette-dir",
                str(tmp_path),
                "--name",
                "demo",
                "--delay",
                "0",
                site.url(BICEP),
                site.url("/user/secret.html"),
                site.url(HOME),
            ],
        )
        assert result.exit_code == 0, result.output
        log = site.requests()
    assert [r.path for r in log] == ["/robots.txt", BICEP, HOME]
    assert {r.user_agent for r in log} == {"Recorder/1 (+mailto:ops@example.org)"}
    # The robots.txt Crawl-delay (0.3 s) wins over --delay 0.
    assert log[2].time - log[1].time >= 0.3
    assert "robots.txt disallows" in result.output

    cassette = json.loads((tmp_path / "demo.json").read_text())
    assert len(cassette["http_interactions"]) == 3
    with LocalSite.from_directories([tmp_path]) as replay:
        body = requests.get(replay.url(BICEP), timeout=5).content
        original = real_pages / "tracklist_2hjnqr0t_bicep_nts-radio_2022-06-16.html"
        assert body == original.read_bytes()
        assert requests.get(replay.url(HOME), timeout=5).ok


def test_record_refuses_a_host_whose_robots_txt_fails(tmp_path: Path, real_pages: Path) -> None:
    with LocalSite.from_directories([real_pages]) as site:
        site.add_rule("/robots.txt", Rule(status=503))
        result = CliRunner().invoke(
            main, ["record", "--cassette-dir", str(tmp_path), site.url(BICEP)]
        )
        assert result.exit_code != 0
        assert "answered 503" in result.output
        assert [r.path for r in site.requests()] == ["/robots.txt"]

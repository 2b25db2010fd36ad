"""Hostile mode answers tracklist pages as the real site answers a suspect, and keeps the truth."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner

from crawler.localsite import KINDS, HostileMode, LocalSite, PageStore, Rule
from crawler.localsite.__main__ import main
from crawler.localsite.demo import demo_store
from crawler.localsite.synthetic import SITE, add_distinct_tracklists
from crawler.pages import BlockedPage, DecoyPage, TracklistPage, classify, parse_page
from crawler.pages.dom import parse_html
from crawler.pages.rows import RowFacts, read_row

BICEP = "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"
ROOT = Path(__file__).resolve().parents[3]
COPIES = 300


@pytest.fixture(scope="module")
def pages(real_pages: Path) -> tuple[PageStore, list[str]]:
    """The real pages plus synthetic copies; the paths of every tracklist in the store."""
    store = PageStore()
    store.load_directory(real_pages)
    bodies = [path.read_bytes() for path in sorted(real_pages.glob("tracklist_*.html"))]
    copies = add_distinct_tracklists(store, bodies, COPIES)
    real = [r.split(" ", 1)[1] for r in store.routes() if r.startswith("GET /tracklist/")]
    paths = sorted(set(real) - {u.removeprefix(SITE) for u in copies})
    return store, paths + [url.removeprefix(SITE) for url in copies]


@pytest.fixture
def store(pages: tuple[PageStore, list[str]]) -> PageStore:
    return pages[0]


@pytest.fixture
def paths(pages: tuple[PageStore, list[str]]) -> list[str]:
    return pages[1]


def fetch(site: LocalSite, path: str) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) as a client sees them; status -1 when the connection drops."""
    try:
        response = requests.get(site.url(path), allow_redirects=False, timeout=10)
    except requests.ConnectionError:
        return -1, b"", {}
    return response.status_code, response.content, dict(response.headers)


def true_body(store: PageStore, path: str) -> bytes:
    page = store.find("GET", path, {})
    assert page is not None
    return page.body


@pytest.mark.programs
def test_the_same_seed_answers_the_same_requests_the_same_way(
    store: PageStore, paths: list[str]
) -> None:
    rates = {"decoy": 0.3, "truncated": 0.1, "rate_limited": 0.1, "redirect": 0.1}
    crawls = []
    for seed in (11, 11, 12):
        hostile = HostileMode(seed=seed, rates=rates)
        with LocalSite(store, hostile=hostile) as site:
            # Two passes over the same pages, as scheduled crawls make them.
            answers = [fetch(site, path)[:2] for _ in range(2) for path in paths[:40]]
        crawls.append((answers, [(a.kind, a.status) for a in hostile.answers()]))
    assert crawls[0] == crawls[1]
    assert crawls[0][1] != crawls[2][1]
    log = HostileMode(seed=11, rates=rates)
    planned = [log.plan(path, nth) for nth in range(2) for path in paths[:40]]
    assert [kind for kind, _ in crawls[0][1]] == planned
    # A page decoyed on the first pass may well be true on the second.
    assert any(log.plan(path, 0) == "decoy" and log.plan(path, 1) == "true" for path in paths[:40])


@pytest.mark.programs
def test_answers_follow_the_rates_over_many_pages(store: PageStore, paths: list[str]) -> None:
    rates = {kind: 0.05 for kind in KINDS}
    hostile = HostileMode(seed=3, rates=rates, slow_seconds=0.01)
    with LocalSite(store, hostile=hostile) as site:
        statuses = Counter(fetch(site, path)[0] for path in paths)
    counts = hostile.counts()
    assert sum(counts.values()) == len(paths)
    expected = 0.05 * len(paths)  # about 15: a binomial spread of about 4
    for kind in KINDS:
        assert expected / 3 <= counts[kind] <= expected * 2.5, (kind, counts)
    assert abs(counts["true"] - 0.4 * len(paths)) <= 0.15 * len(paths)
    assert statuses == Counter(answer.status for answer in hostile.answers())


@pytest.mark.programs
def test_a_decoy_keeps_only_the_microdata_names_true(store: PageStore, paths: list[str]) -> None:
    hostile = HostileMode(seed=1, rates={"decoy": 1.0})
    with LocalSite(store, hostile=hostile) as site:
        for path in paths[:8]:
            status, body, _ = fetch(site, path)
            true = true_body(store, path)
            assert status == 200
            truth = parse_page(true)
            assert isinstance(truth, TracklistPage)
            with pytest.raises(DecoyPage) as seen:  # the parser tells it for what it is
                parse_page(body)
            assert seen.value.url == truth.url
            named = 0
            for fake, real in zip(row_facts(body), row_facts(true), strict=True):
                assert fake is not None
                assert real is not None
                assert fake.microdata_name == real.microdata_name
                assert fake.track_url == real.track_url
                if real.microdata_name:
                    named += 1
                    assert fake.text.display != real.text.display
            assert named >= 10
    assert set(hostile.counts()) == {"decoy"}


def row_facts(body: bytes) -> list[RowFacts | None]:
    root = parse_html(body.decode("utf-8"))
    rows = [e for e in root.iter() if "tlpItem" in (e.get("class") or "").split()]
    return [read_row(row) for row in rows]


@pytest.mark.programs
def test_a_truncated_answer_is_a_prefix_of_the_true_page(
    store: PageStore, paths: list[str]
) -> None:
    hostile = HostileMode(seed=1, rates={"truncated": 1.0}, truncate_at=0.5)
    with LocalSite(store, hostile=hostile) as site:
        for path in paths[:6]:
            status, body, _ = fetch(site, path)
            true = true_body(store, path)
            assert status == 200
            assert body == true[: len(true) // 2]


@pytest.mark.programs
def test_redirects_point_off_the_site(store: PageStore, paths: list[str]) -> None:
    hostile = HostileMode(seed=1, rates={"redirect": 1.0})
    with LocalSite(store, hostile=hostile) as site:
        targets = set()
        for path in paths[:20]:
            status, _, headers = fetch(site, path)
            target = urlsplit(headers["Location"])
            assert status == 302
            assert target.netloc != urlsplit(site.base_url).netloc
            assert target.path == path
            assert hostile.answers(path)[-1].location == headers["Location"]
            targets.add(target.netloc)
        assert targets == {f"localhost:{site.port}", "127.0.0.1:9"}


@pytest.mark.programs
def test_antibot_answers_read_as_blocked_pages(store: PageStore, paths: list[str]) -> None:
    kinds = ("challenge", "captcha", "ip_blocked")
    hostile = HostileMode(seed=4, rates={kind: 1 / 3 for kind in kinds})
    with LocalSite(store, hostile=hostile) as site:
        for path in paths[:30]:
            status, body, _ = fetch(site, path)
            answer = hostile.answers(path)[-1]
            assert status == 200
            assert classify(body) == answer.kind
            with pytest.raises(BlockedPage) as blocked:
                parse_page(body, site.url(path))
            assert blocked.value.page_type == answer.kind
    assert set(hostile.counts()) == set(kinds)


@pytest.mark.programs
def test_429_and_503_carry_retry_after(store: PageStore, paths: list[str]) -> None:
    rates = {"rate_limited": 0.5, "unavailable": 0.5}
    with LocalSite(store, hostile=HostileMode(seed=2, rates=rates, retry_after=17)) as site:
        statuses = set()
        for path in paths[:20]:
            status, _, headers = fetch(site, path)
            statuses.add(status)
            assert headers["Retry-After"] == "17"
        assert statuses == {429, 503}


@pytest.mark.programs
def test_slow_answers_are_true_and_dropped_ones_never_answer(
    store: PageStore, paths: list[str]
) -> None:
    hostile = HostileMode(seed=5, rates={"slow": 0.5, "dropped": 0.5}, slow_seconds=0.3)
    with LocalSite(store, hostile=hostile) as site:
        for path in paths[:12]:
            started = time.monotonic()
            status, body, _ = fetch(site, path)
            answer = hostile.answers(path)[-1]
            if answer.kind == "slow":
                assert (status, body) == (200, true_body(store, path))
                assert time.monotonic() - started >= 0.3
            else:
                assert (answer.kind, answer.status, status) == ("dropped", -1, -1)
    assert set(hostile.counts()) == {"slow", "dropped"}


@pytest.mark.programs
def test_gone_pages_answer_404_or_410_every_time(store: PageStore, paths: list[str]) -> None:
    deleted = "/tracklist/deleted1/never-recorded.html"
    gone = {paths[0]: 404, paths[1]: 410, deleted: 410}
    hostile = HostileMode(seed=6, rates={"decoy": 1.0}, gone=gone)
    with LocalSite(store, hostile=hostile) as site:
        for _ in range(4):
            for path, code in gone.items():
                assert fetch(site, path)[0] == code
            assert fetch(site, paths[2])[0] == 200
        assert [a.status for a in hostile.answers(paths[1])] == [410] * 4
        assert hostile.counts() == Counter({"not_found": 4, "gone": 8, "decoy": 4})
        assert hostile.true_page(paths[0]) == true_body(store, paths[0])
        assert hostile.true_page(deleted) is None


@pytest.mark.programs
def test_the_truth_log_records_every_answer(store: PageStore, paths: list[str]) -> None:
    rates = {kind: 0.06 for kind in KINDS if kind != "slow"}
    hostile = HostileMode(seed=8, rates=rates)
    with LocalSite(store, hostile=hostile) as site:
        seen = [(path, fetch(site, path)[0]) for _ in range(3) for path in paths[:25]]
        # Not tracklists, or taken by a rule: served as usual and not in the hostile log.
        assert requests.get(site.url("/robots.txt"), timeout=5).status_code == 200
        assert requests.get(site.url("/tracklist/nope/x.html"), timeout=5).status_code == 404
        site.add_rule(BICEP, Rule(status=429, retry_after="1", times=1))
        assert fetch(site, BICEP)[0] == 429
        answers = hostile.answers()
        assert [(a.path, a.status) for a in answers] == seen
        assert [a.nth for a in answers] == [n for n in range(3) for _ in paths[:25]]
        assert sum(hostile.counts().values()) == len(seen)
        assert len(hostile.counts()) >= 8
        assert hostile.truth() == {path: true_body(store, path) for path in paths[:25]}


def test_hostile_mode_is_off_unless_given(real_pages: Path) -> None:
    hostile = HostileMode(seed=1)
    assert LocalSite.from_directories([real_pages], hostile=hostile).hostile is hostile
    assert LocalSite(demo_store()).hostile is None


def test_a_decoy_of_a_page_without_named_rows_is_the_true_page() -> None:
    store = demo_store()
    hostile = HostileMode(seed=1, rates={"decoy": 1.0})
    path = "/tracklist/demo0001/nova-lund-harbour-lights-festival-2025-06-21.html"
    assert hostile.rule_for("GET", path, store, port=8000) is None
    assert [(a.kind, a.status) for a in hostile.answers()] == [("true", 200)]
    assert hostile.rule_for("POST", path, store, port=8000) is None
    assert hostile.rule_for("GET", "/", store, port=8000) is None
    assert len(hostile.answers()) == 1


def test_antibot_answers_need_the_stored_antibot_pages() -> None:
    hostile = HostileMode(seed=1, rates={"captcha": 1.0})
    path = "/tracklist/demo0001/nova-lund-harbour-lights-festival-2025-06-21.html"
    with pytest.raises(LookupError, match="captcha"):
        hostile.rule_for("GET", path, demo_store(), port=8000)


def test_the_plan_is_a_function_of_seed_path_and_count() -> None:
    rates = {"decoy": 0.5, "gone": 0.2}
    first, again = HostileMode(seed=1, rates=rates), HostileMode(seed=1, rates=rates)
    plans = [first.plan(f"/tracklist/{n}/x.html", k) for n in range(200) for k in range(3)]
    assert plans == [again.plan(f"/tracklist/{n}/x.html", k) for n in range(200) for k in range(3)]
    assert set(plans) == {"decoy", "gone", "true"}
    assert HostileMode(seed=1).plan("/tracklist/1/x.html", 0) == "true"
    assert HostileMode(seed=1, gone={"/a": 404}).plan("/a", 5) == "not_found"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rates": {"teapot": 0.1}}, "unknown hostile kinds"),
        ({"rates": {"decoy": 0.7, "gone": 0.4}}, "sum to at most 1"),
        ({"rates": {"decoy": -0.1}}, "sum to at most 1"),
        ({"gone": {"/a": 200}}, "404 or 410"),
        ({"truncate_at": 1.0}, "truncate_at"),
        ({"redirect_hosts": ()}, "redirect_hosts"),
    ],
)
def test_a_wrong_configuration_is_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HostileMode(seed=1, **options)  # type: ignore[arg-type]


@pytest.mark.programs
def test_the_command_serves_in_hostile_mode_and_reports_the_counts(real_pages: Path) -> None:
    command = [sys.executable, "-m", "crawler.localsite", "--pages", str(real_pages)]
    command += ["--hostile-seed", "4", "--hostile-rate", "rate_limited=1", "--gone", BICEP]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        matroda = "/tracklist/l3uw499/matroda-club-space-miami-united-states-2023-08-05.html"
        assert requests.get(base_url + matroda, timeout=5).status_code == 429
        assert requests.get(base_url + BICEP, timeout=5).status_code == 410
        assert requests.get(base_url + "/robots.txt", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)  # as a supervisor stops it
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    report = out.strip().splitlines()[-1]
    assert report.startswith("hostile answers: ")
    assert json.loads(report.removeprefix("hostile answers: ")) == {"gone": 1, "rate_limited": 1}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--hostile-rate", "decoy=0.1"], "need --hostile-seed"),
        (["--hostile-seed", "1", "--hostile-rate", "decoy"], "hostile mode"),
        (["--hostile-seed", "1", "--hostile-rate", "teapot=0.1"], "unknown hostile kinds"),
        (["--hostile-seed", "1", "--gone", "/tracklist/a/b.html=302"], "404 or 410"),
    ],
)
def test_the_command_refuses_a_wrong_hostile_mode(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["--pages", str(tmp_path), *arguments])
    assert result.exit_code == 2
    assert message in result.output

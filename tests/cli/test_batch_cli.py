"""``tracklists batch crawl|cue|status``: the jobs of POST /batch/…, progress bars, exit codes."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

import cue
from cli.main import main
from store.crawl_queue import DEFAULT_QUEUE_KEY, finish_request
from store.db import make_session_factory, session_scope
from store.models import BatchJob, CrawlRequest, utcnow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_data import SITE, page, store_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(
    any_database_url: str, migrated_engine: Engine, redis_url: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    yield {
        "TRACKLIST_DATABASE_URL": any_database_url,
        "TRACKLIST_REDIS_URL": redis_url,
        "TRACKLIST_STORAGE_DIR": str(tmp_path / "storage"),
        "TRACKLIST_BATCH_MAX_ITEMS": "5",
    }
    # Take this test's messages out of the shared list again (their rows die with the database).
    with make_session_factory(migrated_engine)() as session:
        ours = {str(found) for found in session.scalars(select(CrawlRequest.correlation_id))}
    client = redis.Redis.from_url(redis_url)
    for raw in client.lrange(DEFAULT_QUEUE_KEY, 0, -1):
        if json.loads(raw).get("correlation_id") in ours:
            client.lrem(DEFAULT_QUEUE_KEY, 0, raw)
    client.close()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated_engine)


@pytest.fixture
def runner(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner(env=env)


def _new_url() -> str:
    site_id = uuid.uuid4().hex[:10]
    return f"{SITE}/tracklist/{site_id}/{site_id}-set.html"


def _rows(result: Result) -> tuple[str, list[list[str]]]:
    """The job id and the item lines of a command's standard output."""
    batch_id, *lines = result.stdout.splitlines()
    return batch_id, [line.split("\t") for line in lines]


def test_crawl_queues_urls_from_arguments_and_files(
    runner: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    good, other = _new_url(), _new_url()
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# to crawl\n{other}\n\nhttp://127.0.0.1/tracklist/a/b.html\n")
    result = runner.invoke(main, ["batch", "crawl", good, str(listing), "ftp://x/y"])
    assert result.exit_code == 1, result.output  # refused items fail the command
    batch_id, rows = _rows(result)
    uuid.UUID(batch_id)
    assert [row[:3] for row in rows] == [
        ["0", "queued", good],
        ["1", "queued", other],
        ["2", "failed", "http://127.0.0.1/tracklist/a/b.html"],
        ["3", "failed", "ftp://x/y"],
    ]
    assert "IP addresses are not accepted" in rows[2][3]
    assert "queueing" in result.stderr  # the progress bar's label (no bar off a terminal)
    assert f"batch {batch_id}: running, 0 done, 2 failed, 2 pending of 4" in result.stderr
    with sessions() as session:
        requests = session.scalars(select(CrawlRequest).where(CrawlRequest.url.in_([good, other])))
        assert {(row.url, str(row.correlation_id), row.requested_by) for row in requests} == {
            (good, rows[0][3], "cli"),
            (other, rows[1][3], "cli"),
        }


def test_crawl_wait_follows_the_crawls_to_the_end(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    urls = [_new_url(), _new_url()]
    worker = threading.Thread(target=_finish_when_queued, args=(sessions, urls), daemon=True)
    worker.start()
    result = runner.invoke(main, ["batch", "crawl", *urls, "--wait", "--interval", "0.05"])
    worker.join(timeout=30)
    assert result.exit_code == 0, result.output
    _, rows = _rows(result)
    assert [row[1] for row in rows] == ["done", "done"]
    assert "crawling" in result.stderr
    assert ": done, 2 done, 0 failed, 0 pending of 2" in result.stderr


def _finish_when_queued(sessions: sessionmaker[Session], urls: list[str]) -> None:
    """A stand-in worker: once both requests exist, store each page and finish its request."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sessions() as session:
            found = session.scalars(select(CrawlRequest).where(CrawlRequest.url.in_(urls))).all()
        if len(found) == len(urls):
            break
        time.sleep(0.05)
    time.sleep(0.2)  # let the command poll a pending state first
    for request in found:
        site_id = request.url.split("/")[4]
        stored = store_page(sessions, page(site_id, [("Someone", "someone")], None, None))
        with session_scope(sessions) as session:
            finish_request(session, str(request.correlation_id), "done", tracklist_id=stored)


def test_wait_gives_up_after_the_timeout(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["batch", "crawl", _new_url(), "--wait", "--interval", "0.05", "--timeout", "0.2"]
    )
    assert result.exit_code == 1
    assert "running, 0 done, 0 failed, 1 pending of 1" in result.stderr


def test_status_shows_a_job_and_refuses_unknown_ids(runner: CliRunner) -> None:
    created = runner.invoke(main, ["batch", "crawl", "x", "y"])
    batch_id, rows = _rows(created)
    shown = runner.invoke(main, ["batch", "status", batch_id])
    assert shown.exit_code == 1  # both items failed
    assert _rows(shown) == (batch_id, rows)
    unknown = runner.invoke(main, ["batch", "status", str(uuid.uuid4())])
    assert unknown.exit_code == 1
    assert "no batch job" in unknown.stderr
    assert runner.invoke(main, ["batch", "status", "not-an-id"]).exit_code == 2


def test_cue_writes_the_zip_and_fails_unknown_items(
    runner: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = store_page(sessions, page("clione", [("Sven Väth", "svenvath")], None, "2024-04-06"))
    store_page(sessions, page("clitwo", [("Carl Cox", "carlcox")], None, "2024-04-07"))
    unknown = str(uuid.uuid4())
    out = tmp_path / "sets.zip"
    args = ["batch", "cue", "--format", "kodi", str(first), f"{SITE}/tracklist/clitwo/x.html"]
    result = runner.invoke(main, [*args, unknown, "-o", str(out)])
    assert result.exit_code == 1, result.output  # the unknown id failed; the zip is written
    _, rows = _rows(result)
    assert [row[1] for row in rows] == ["done", "done", "failed"]
    assert rows[2][3] == f"no stored tracklist {unknown}"
    assert "rendering" in result.stderr
    assert f"wrote {out} (2 file(s))" in result.stderr
    archive = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    assert sorted(archive.namelist()) == ["clione-set.cue", "clitwo-set.cue"]
    for name in archive.namelist():
        parsed = cue.parse(archive.read(name).decode())
        assert not cue.has_errors(parsed.problems), parsed.problems
    clean = runner.invoke(main, ["batch", "cue", str(first)])  # default output name
    assert clean.exit_code == 0, clean.output
    assert (tmp_path / f"batch-{_rows(clean)[0]}.zip").is_file()


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    too_many = runner.invoke(main, ["batch", "crawl", *[_new_url() for _ in range(6)]])
    assert too_many.exit_code == 2
    assert "at most 5 in one batch (TRACKLIST_BATCH_MAX_ITEMS)" in too_many.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    assert runner.invoke(main, ["batch", "crawl", str(empty)]).exit_code == 2
    assert runner.invoke(main, ["batch", "crawl"]).exit_code == 2
    assert runner.invoke(main, ["batch", "cue", "--format", "mp3", "x"]).exit_code == 2


def test_inputs_from_standard_input(runner: CliRunner) -> None:
    url = _new_url()
    result = runner.invoke(main, ["batch", "crawl", "-"], input=f"{url}\n# comment\n")
    assert result.exit_code == 0, result.output
    assert _rows(result)[1][0][:3] == ["0", "queued", url]


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    primary, secondary = pty.openpty()
    yield primary, secondary
    os.close(primary)


def test_the_progress_bar_advances_on_a_terminal(
    env: dict[str, str], sessions: sessionmaker[Session], terminal: tuple[int, int]
) -> None:
    ids = [
        str(store_page(sessions, page(f"pty{n}", [("Bar", "bar")], None, None))) for n in range(3)
    ]
    primary, secondary = terminal
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "batch", "cue", *ids, "-o", os.devnull],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("TRACKLIST_")}, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    drawn = _read_all(primary)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0, drawn
    assert len(stdout.decode().splitlines()) == 4
    assert "rendering  [####################################]  3/3" in drawn
    assert "0/3" in drawn  # drawn before the first item, then redrawn as items finished


def _read_all(descriptor: int) -> str:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:  # the other end closed (EIO on Linux)
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_prune_deletes_old_jobs_and_says_how_many(
    runner: CliRunner, sessions: sessionmaker[Session], env: dict[str, str]
) -> None:
    storage = Path(env["TRACKLIST_STORAGE_DIR"])
    storage.mkdir(parents=True, exist_ok=True)
    archive = storage / "old.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    with session_scope(sessions) as session:
        session.add(
            BatchJob(
                kind="cue",
                format="standard",
                storage_path=str(archive),
                created_at=utcnow() - timedelta(days=3),
            )
        )
    kept = runner.invoke(main, ["batch", "prune", "--older-than-days", "5"])
    assert (kept.exit_code, kept.stdout.split(";")[0]) == (
        0,
        "pruned 0 batch jobs older than 5 days",
    )
    pruned = runner.invoke(main, ["batch", "prune", "--older-than-days", "1"])
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.strip() == (
        "pruned 1 batch jobs older than 1 days; removed 1 zip files (0 already gone)"
    )
    assert not archive.exists()
    refused = runner.invoke(main, ["batch", "prune", "--older-than-days", "-1"])
    assert refused.exit_code == 2

"""``tracklists batch``: batch crawls and CUE zips from the command line, with progress bars;
``tracklists batch prune`` deletes old jobs (cron it, like the scheduled crawls).

The commands run in-process against the store and Redis (as ``tracklists crawl`` does) and
make the same jobs as ``POST /batch/crawl`` and ``POST /batch/cue`` (:mod:`service.batches`,
:mod:`service.cue_batches`); ``GET /batch/{id}`` shows them to nobody but the CLI (they have no
owner). Inputs are arguments, or files of one input per line (``-`` reads standard input;
blank lines and ``#`` comments are skipped).

Progress bars go to standard error; standard output gets the job id, then one line per item:
``position<TAB>status<TAB>input<TAB>correlation id, tracklist id or error``. Exit status: 0
when no item failed, 1 when some did (or ``--timeout`` ran out first), 2 for usage errors.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
import redis
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cli.common import settings_or_exit
from config.settings import Settings
from cue import FORMATS
from service.batch_progress import DONE, FAILED, PENDING, BatchState, batch_state
from service.batch_retention import prune_batches
from service.batches import submit_crawl_batch
from service.cue_batches import batch_archive, make_cue_batch
from store.crawl_queue import CrawlQueue
from store.db import make_engine, make_session_factory

REQUESTED_BY = "cli"


@click.group()
def batch() -> None:
    """Batch jobs: many crawls or CUE files at once, followed with a progress bar."""


@batch.command("crawl")
@click.argument("sources", nargs=-1, required=True)
@click.option("--force-refresh", is_flag=True, help="Crawl even tracklists stored recently.")
@click.option("--wait", is_flag=True, help="Follow the crawls until every item has finished.")
@click.option("--interval", type=click.FloatRange(0.05, 60), default=2.0, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop waiting after SECONDS.")
def crawl_batch(
    sources: tuple[str, ...],
    force_refresh: bool,
    wait: bool,
    interval: float,
    timeout: float | None,
) -> None:
    """Queue a crawl for each tracklist URL in SOURCES (URLs, or files of URLs).

    Refused URLs (another site, an internal address, not a tracklist page) are failed items;
    the others are queued for `scrapy crawl worker` as `tracklists crawl request` queues them.
    """
    settings = settings_or_exit()
    inputs = _inputs(sources, settings)
    with _store(settings) as sessions:
        client = redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2)
        try:
            with _bar(len(inputs), "queueing") as step:
                batch_id = submit_crawl_batch(
                    sessions,
                    CrawlQueue(client, sessions),
                    inputs,
                    max_age=timedelta(hours=settings.api_tracklist_max_age_hours),
                    force_refresh=force_refresh,
                    requested_by=REQUESTED_BY,
                    on_item=step,
                )
        finally:
            client.close()
        click.echo(batch_id)
        state = (
            _follow(sessions, batch_id, interval, timeout) if wait else _read(sessions, batch_id)
        )
    _report(state, waited=wait)


@batch.command("cue")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "format_name",
    type=click.Choice(list(FORMATS)),
    default="standard",
    show_default=True,
    help="Output format (as GET /cue/formats lists them).",
)
@click.option("--include-pregap", is_flag=True, help="Start the first track at 0 with a pregap.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the zip [default: batch-<id>.zip].",
)
def cue_batch(
    sources: tuple[str, ...], format_name: str, include_pregap: bool, output: Path | None
) -> None:
    """Render stored tracklists (ids or URLs in SOURCES, or files of them) into one zip.

    Each file is recorded as POST /cue/generate records one; tracklists that are not stored or
    cannot be rendered are failed items.
    """
    settings = settings_or_exit()
    inputs = _inputs(sources, settings)
    with _store(settings) as sessions:
        with _bar(len(inputs), "rendering") as step:
            batch_id = make_cue_batch(
                sessions,
                settings.cue_storage_dir,
                inputs,
                format_name,
                include_pregap=include_pregap,
                requested_by=REQUESTED_BY,
                on_item=step,
            )
        click.echo(batch_id)
        state = _read(sessions, batch_id)
        with sessions() as session:
            archive = batch_archive(session, batch_id, settings.cue_storage_dir)
    target = output or Path(f"batch-{batch_id}.zip")
    assert archive is not None  # every CUE job has its zip, kept in its row
    try:
        target.write_bytes(archive)
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"wrote {target} ({state.counts[DONE]} file(s))", err=True)
    _report(state, waited=False)


@batch.command("status")
@click.argument("batch_id", type=click.UUID)
@click.option("--wait", is_flag=True, help="Follow the crawls until every item has finished.")
@click.option("--interval", type=click.FloatRange(0.05, 60), default=2.0, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop waiting after SECONDS.")
def status(batch_id: uuid.UUID, wait: bool, interval: float, timeout: float | None) -> None:
    """Show a batch job's items; with --wait, follow it until every item has finished."""
    settings = settings_or_exit()
    with _store(settings) as sessions:
        with sessions() as session:
            if batch_state(session, batch_id) is None:
                raise click.ClickException(f"no batch job {batch_id}")
        click.echo(batch_id)
        state = (
            _follow(sessions, batch_id, interval, timeout) if wait else _read(sessions, batch_id)
        )
    _report(state, waited=wait)


@batch.command("prune")
@click.option(
    "--older-than-days",
    type=click.FloatRange(min=0),
    default=30,
    show_default=True,
    help="Delete jobs created longer ago than this.",
)
def prune(older_than_days: float) -> None:
    """Delete old batch jobs with their items and zip files (their CUE files stay)."""
    settings = settings_or_exit()
    with _store(settings) as sessions:
        result = prune_batches(sessions, settings.cue_storage_dir, timedelta(days=older_than_days))
    click.echo(
        f"pruned {result.jobs} batch jobs older than {older_than_days:g} days; "
        f"removed {result.files_removed} zip files ({result.files_missing} already gone)"
    )


def _inputs(sources: tuple[str, ...], settings: Settings) -> list[str]:
    """Every input: arguments as given, files (``-``: stdin) one per line."""
    inputs: list[str] = []
    for source in sources:
        if source == "-" or Path(source).is_file():
            with click.open_file(source, encoding="utf-8", errors="replace") as handle:
                lines = [line.strip() for line in handle]
            inputs += [line for line in lines if line and not line.startswith("#")]
        else:
            inputs.append(source)
    if not inputs:
        raise click.UsageError("no inputs: the files given are empty")
    if len(inputs) > settings.batch_max_items:
        raise click.UsageError(
            f"{len(inputs)} inputs: at most {settings.batch_max_items} in one batch "
            "(TRACKLIST_BATCH_MAX_ITEMS)"
        )
    return inputs


@contextmanager
def _store(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database; database failures as one line, not a traceback."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        yield make_session_factory(engine)
    except DBAPIError as exc:
        first = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        raise click.ClickException(
            f"database error ({first}); is it migrated? (tracklists db upgrade)"
        ) from None
    finally:
        engine.dispose()


@contextmanager
def _bar(length: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on standard error; yields the function that advances it by one."""
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:
        yield lambda: bar.update(1)


def _read(sessions: sessionmaker[Session], batch_id: uuid.UUID) -> BatchState:
    with sessions() as session:
        state = batch_state(session, batch_id)
    if state is None:  # it was just written, or checked to exist
        raise click.ClickException(f"no batch job {batch_id}")
    return state


def _follow(
    sessions: sessionmaker[Session], batch_id: uuid.UUID, interval: float, timeout: float | None
) -> BatchState:
    """Poll until no item is pending (or ``timeout``), advancing a bar as items finish."""
    deadline = None if timeout is None else time.monotonic() + timeout
    state = _read(sessions, batch_id)
    with click.progressbar(
        length=state.total, label="crawling", file=sys.stderr, show_pos=True
    ) as bar:
        shown = 0
        while True:
            settled = state.total - state.counts[PENDING]
            bar.update(settled - shown)
            shown = settled
            if not state.counts[PENDING] or (deadline is not None and time.monotonic() > deadline):
                return state
            time.sleep(interval)
            state = _read(sessions, batch_id)


def _report(state: BatchState, *, waited: bool) -> None:
    """One line per item on stdout, a summary on stderr; exit 1 when items failed, or are
    still pending after waiting (the timeout ran out)."""
    for item in state.items:
        detail = item.error or item.cue_file_id or item.tracklist_id or item.correlation_id or ""
        click.echo(f"{item.position}\t{item.status}\t{item.input}\t{detail}")
    counts = state.counts
    summary = (
        f"batch {state.id}: {state.status}, {counts[DONE]} done, {counts[FAILED]} failed, "
        f"{counts[PENDING]} pending of {state.total}"
    )
    if counts[FAILED] or (counts[PENDING] and waited):
        raise click.ClickException(summary)
    click.echo(summary, err=True)

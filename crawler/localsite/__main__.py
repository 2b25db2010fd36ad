"""``python -m crawler.localsite --pages DIR [--port N]``: serve recorded pages until Ctrl-C.

``--hostile-seed N --hostile-rate decoy=0.1 --gone /tracklist/x/y.html=410`` answers tracklist
pages in hostile mode (:mod:`crawler.localsite.hostile`); the answer counts print at the end.
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

import click

from crawler.localsite.hostile import KINDS, HostileMode
from crawler.localsite.pages import PageStore
from crawler.localsite.rules import REAL_DISALLOWED, robots_txt
from crawler.localsite.server import LocalSite


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--pages",
    "directories",
    multiple=True,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of recorded pages: manifest.json, betamax cassettes, saved site pages.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port (0: any free port).")
@click.option(
    "--crawl-delay",
    type=float,
    default=8.0,
    show_default=True,
    help="Crawl-delay announced in robots.txt (the real site says 8).",
)
@click.option(
    "--robots",
    "robots_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve this robots.txt instead of the one modelled on the site's.",
)
@click.option(
    "--hostile-seed",
    type=int,
    help="Answer tracklist pages in hostile mode, drawing answers with this seed.",
)
@click.option(
    "--hostile-rate",
    "rates",
    multiple=True,
    metavar="KIND=RATE",
    help=f"How often to answer with KIND (one of {', '.join(KINDS)}); repeatable.",
)
@click.option(
    "--gone",
    "gone",
    multiple=True,
    metavar="PATH[=404|410]",
    help="A tracklist path that answers 410 (or the status given) every time; repeatable.",
)
def main(
    directories: tuple[Path, ...],
    host: str,
    port: int,
    crawl_delay: float,
    robots_file: Path | None,
    hostile_seed: int | None,
    rates: tuple[str, ...],
    gone: tuple[str, ...],
) -> None:
    """Serve recorded 1001tracklists pages on HOST:PORT and log each request."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    store = PageStore()
    for directory in directories:
        store.load_directory(directory)
    robots = (
        robots_file.read_text(encoding="utf-8")
        if robots_file is not None
        else robots_txt(crawl_delay, REAL_DISALLOWED)
    )
    hostile = _hostile_mode(hostile_seed, rates, gone)
    site = LocalSite(store, robots_txt=robots, host=host, port=port, hostile=hostile)
    # A supervisor's SIGTERM stops it as Ctrl-C does (and SIGINT may be ignored in background).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        site.serve_forever(
            announce=lambda url: click.echo(f"{len(store)} recorded responses at {url}")
        )
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        if hostile is not None:
            click.echo(f"hostile answers: {json.dumps(dict(sorted(hostile.counts().items())))}")


def _hostile_mode(
    seed: int | None, rates: tuple[str, ...], gone: tuple[str, ...]
) -> HostileMode | None:
    if seed is None:
        if rates or gone:
            raise click.UsageError("--hostile-rate and --gone need --hostile-seed")
        return None
    try:
        kinds = {kind: float(rate) for kind, _, rate in (r.partition("=") for r in rates)}
        return HostileMode(seed=seed, rates=kinds, gone=dict(_gone_path(g) for g in gone))
    except ValueError as exc:
        raise click.UsageError(f"hostile mode: {exc}") from None


def _gone_path(text: str) -> tuple[str, int]:
    """``/tracklist/x/y.html=404`` -> (path, 404); without a status the page is 410 Gone."""
    path, _, status = text.rpartition("=")
    return (path, int(status)) if path else (text, 410)


if __name__ == "__main__":
    main()

"""``python -m crawler.localsite --pages DIR [--port N]``: serve recorded pages until Ctrl-C."""

from __future__ import annotations

import logging
from pathlib import Path

import click

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
def main(
    directories: tuple[Path, ...],
    host: str,
    port: int,
    crawl_delay: float,
    robots_file: Path | None,
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
    site = LocalSite(store, robots_txt=robots, host=host, port=port)
    try:
        site.serve_forever(
            announce=lambda url: click.echo(f"{len(store)} recorded responses at {url}")
        )
    except KeyboardInterrupt:
        click.echo("stopped")


if __name__ == "__main__":
    main()

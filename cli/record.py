"""``tracklists record URL...``: save real responses as a betamax cassette for the local site.

Recording is a crawl like any other: it sends the service's User-Agent, obeys robots.txt
(Disallow and Crawl-delay) and waits between requests. The cassette keeps exact body bytes
so compressed responses replay as they came.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import click
import requests
from betamax import Betamax
from protego import Protego

from cli.common import settings_or_exit


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--cassette-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/cassettes"),
    show_default=True,
    help="Folder the cassette is written to (the local site's --pages accepts it).",
)
@click.option("--name", default="recorded", show_default=True, help="Cassette name.")
@click.option(
    "--delay",
    type=float,
    default=None,
    help="Seconds between requests [default: TRACKLIST_SCRAPING_RATE_LIMIT_DELAY]; "
    "a larger robots.txt Crawl-delay wins.",
)
def record(urls: tuple[str, ...], cassette_dir: Path, name: str, delay: float | None) -> None:
    """Fetch URLS politely and record the responses as a betamax cassette."""
    settings = settings_or_exit()
    user_agent = settings.scraping_user_agent
    pause = settings.scraping_rate_limit_delay if delay is None else delay
    cassette_dir.mkdir(parents=True, exist_ok=True)
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    robots: dict[str, Protego] = {}
    recorder = Betamax(session, cassette_library_dir=str(cassette_dir))
    recorded = 0
    with recorder.use_cassette(name, record="all", preserve_exact_body_bytes=True):
        for url in urls:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in robots:
                robots[origin] = _robots(session, origin, settings.scraping_request_timeout)
            rules = robots[origin]
            if not rules.can_fetch(url, user_agent):
                click.echo(f"skipped (robots.txt disallows): {url}", err=True)
                continue
            if recorded:
                time.sleep(max(pause, rules.crawl_delay(user_agent) or 0.0))
            response = session.get(url, timeout=settings.scraping_request_timeout)
            click.echo(f"{response.status_code} {url}")
            recorded += 1
    click.echo(f"recorded {recorded} response(s) in {cassette_dir / name}.json")


def _robots(session: requests.Session, origin: str, timeout: float) -> Protego:
    """The site's robots rules; a 5xx or an unreachable robots.txt means: fetch nothing."""
    try:
        response = session.get(origin + "/robots.txt", timeout=timeout)
    except requests.RequestException as exc:
        raise click.ClickException(f"robots.txt of {origin} unreachable: {exc}") from None
    if response.status_code >= 500:
        raise click.ClickException(
            f"robots.txt of {origin} answered {response.status_code}: try again later"
        )
    return Protego.parse(response.text if response.ok else "")

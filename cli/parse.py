"""``tracklists parse FILE [--url URL]``: print the JSON document of a saved page.

Exit codes: 0 parsed; 1 unreadable file or not a page we can parse (one-line ``Error:``
message on stderr); 3 an anti-bot page (its ``{"page_type": ...}`` document is still printed,
so scripts can see which kind of block it was).
"""

from __future__ import annotations

import json
import sys

import click

from crawler.pages import BlockedPage, ParseError, blocked_document, parse_page, to_document

EXIT_BLOCKED = 3


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--url", default=None, help="The URL the page was fetched from (helps classify).")
def parse(file: str, url: str | None) -> None:
    """Parse a saved 1001tracklists page (or '-' for stdin) and print its JSON document."""
    body = _read(file)
    try:
        page = parse_page(body, url)
    except BlockedPage as blocked:
        _print(blocked_document(blocked.page_type))
        click.echo(f"Error: {file}: {_one_line(blocked)}", err=True)
        sys.exit(EXIT_BLOCKED)
    except ParseError as error:
        raise click.ClickException(f"{file}: {_one_line(error)}") from None
    _print(to_document(page))


def _read(file: str) -> bytes:
    try:
        if file == "-":
            return sys.stdin.buffer.read()
        with open(file, "rb") as handle:
            return handle.read()
    except OSError as exc:
        reason = _one_line(exc.strerror or exc)
        raise click.ClickException(f"cannot read {file}: {reason}") from None


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _print(document: dict[str, object]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=1))

"""Typed failures of the page parsers.

Everything :func:`crawler.pages.parse_page` refuses comes out as a :class:`PageError`, so a
caller needs exactly one ``except`` clause: :class:`BlockedPage` for the site's anti-bot pages
(back off, never store), :class:`ParseError` for anything else that is not the page it claims
to be.
"""

from __future__ import annotations

BLOCKED_PAGE_TYPES = frozenset({"challenge", "captcha", "ip_blocked"})
# A decoy looks like a tracklist until its rows are read, so classification never returns it.
DECOY = "decoy"


class PageError(Exception):
    """Base of every error the page parsers raise."""

    def __init__(self, page_type: str, message: str) -> None:
        super().__init__(message)
        self.page_type = page_type


class ParseError(PageError):
    """The body is not a parsable page of the kind named by ``page_type``.

    ``missing`` says what was looked for and not found, so a log line is actionable.
    """

    def __init__(self, page_type: str, missing: str) -> None:
        super().__init__(page_type, f"{page_type} page: {missing}")
        self.missing = missing

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        # Rebuilt from its own arguments, so it survives pickling (parsing in a process pool).
        return (type(self), (self.page_type, self.missing))


class BlockedPage(PageError):
    """The site answered with an anti-bot page (``challenge``, ``captcha`` or ``ip_blocked``).

    ``url`` is the canonical URL the block page names, when it names one: these pages carry a
    real tracklist's title and canonical URL, which is exactly why they must never be read as
    an empty tracklist.
    """

    def __init__(self, page_type: str, url: str | None = None) -> None:
        where = f" for {url}" if url else ""
        super().__init__(page_type, f"anti-bot page ({page_type}){where}")
        self.url = url

    def __reduce__(self) -> tuple[type[BlockedPage], tuple[str, str | None]]:
        return (type(self), (self.page_type, self.url))


class DecoyPage(BlockedPage):
    """A tracklist page served to suspected bots: real layout, invented track names.

    The site randomises one part of every row's name in what it shows (the visible credit,
    ``byArtist``, the artwork's alt text) and keeps the real one only in the row's microdata
    ``name`` and track link. ``evidence`` says how many rows disagree.
    """

    def __init__(self, url: str | None, evidence: str) -> None:
        PageError.__init__(self, DECOY, f"anti-bot page (decoy): {evidence}")
        self.url = url
        self.evidence = evidence

    def __reduce__(self) -> tuple[type[BlockedPage], tuple[str | None, str]]:  # type: ignore[override]
        return (type(self), (self.url, self.evidence))

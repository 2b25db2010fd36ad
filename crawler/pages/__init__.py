"""Page parsers for 1001tracklists.com: HTML or JSON in, typed values out.

Pure code: no network, no Scrapy objects, nothing imported from the rest of the service,
so spiders, pipelines, the CLI, tests and benchmarks all share it.

- :func:`parse_page` classifies and parses any body (tracklist, search, DJ index, latest,
  media-link JSON, DJ "load more" JSON).
- :func:`classify` only says what a body is.
- :func:`to_document` gives the JSON document of ``shared/real-pages/expected``.
- Anti-bot pages raise :class:`BlockedPage` (a decoy tracklist, detected from its rows,
  :class:`DecoyPage`); every other failure is a :class:`ParseError`; both are
  :class:`PageError`.
"""

from crawler.pages.classify import PAGE_TYPES
from crawler.pages.document import blocked_document, to_document
from crawler.pages.errors import DECOY, BlockedPage, DecoyPage, PageError, ParseError
from crawler.pages.parse import classify, parse_page
from crawler.pages.types import (
    ListingPage,
    MashupPart,
    MediaLink,
    MediaLinksPage,
    NamedLink,
    ParsedPage,
    ResultRow,
    TrackEntry,
    TracklistPage,
)

__all__ = [
    "DECOY",
    "PAGE_TYPES",
    "BlockedPage",
    "DecoyPage",
    "ListingPage",
    "MashupPart",
    "MediaLink",
    "MediaLinksPage",
    "NamedLink",
    "PageError",
    "ParseError",
    "ParsedPage",
    "ResultRow",
    "TrackEntry",
    "TracklistPage",
    "blocked_document",
    "classify",
    "parse_page",
    "to_document",
]

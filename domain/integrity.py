"""When a crawled tracklist page is too short to publish: the rule, in one place.

The site sometimes answers 200 with a page cut short. Such a page still parses (its heading
and first rows are intact), so it is judged by its counts:

- **Fewer rows than it declares.** ``#tlTab data-count`` and the ``numTracks`` microdata say
  how many rows the set has; a page that parsed more than :data:`ROWS_MAY_BE_MISSING` fewer
  rows than the larger of the two is short. Genuine pages differ by one or two (a row
  deleted after the count was cached, a count that includes a removed ID), never more on the
  pages we have seen.
- **Most rows gone.** A page that would replace a published version with fewer than half of
  its rows is short, whatever it declares.

A short page is held (kept unpublished, for an editor to accept), never published.
"""

from __future__ import annotations

ROWS_MAY_BE_MISSING = 2
"""How many rows a genuine page may lack against its own count."""


def short_page_reason(
    *,
    declared_rows: int | None,
    declared_tracks: int | None,
    parsed_rows: int,
    entries: int,
    replaced_entries: int | None,
) -> str | None:
    """Why a page must be held as short, or None when it may be published.

    ``parsed_rows`` counts every row read (mashup parts too), as ``data-count`` does;
    ``entries`` and ``replaced_entries`` (the published version's, None for a first crawl)
    count the tracklist's top-level rows.
    """
    declared = max((n for n in (declared_rows, declared_tracks) if n is not None), default=None)
    if declared is not None and declared - parsed_rows > ROWS_MAY_BE_MISSING:
        return f"the page declares {declared} rows but {parsed_rows} were read"
    if replaced_entries and entries * 2 < replaced_entries:
        return f"the page would replace {replaced_entries} rows with {entries}"
    return None

"""A local replay of 1001tracklists.com for tests and the offline demo.

``LocalSite`` serves recorded pages (real saved pages, a manifest of files, betamax cassettes)
and a robots.txt on 127.0.0.1, applies per-path :class:`Rule` s (429/503 with Retry-After,
slow answers, anti-bot pages, errors) and logs every request. Run it from a shell with
``python -m crawler.localsite --pages DIR --port N``.
"""

from crawler.localsite.pages import Page, PageStore
from crawler.localsite.rules import DEFAULT_ROBOTS_TXT, Rule, http_date, robots_txt
from crawler.localsite.server import LocalSite, RequestRecord

__all__ = [
    "DEFAULT_ROBOTS_TXT",
    "LocalSite",
    "Page",
    "PageStore",
    "RequestRecord",
    "Rule",
    "http_date",
    "robots_txt",
]

"""A local replay of 1001tracklists.com for tests and the offline demo.

``LocalSite`` serves recorded pages (real saved pages, a manifest of files, betamax cassettes)
and a robots.txt on 127.0.0.1, applies per-path :class:`Rule` s (429/503 with Retry-After,
slow answers, anti-bot pages, errors) and logs every request. In hostile mode
(:class:`HostileMode`) it answers tracklist pages like the real site answers a suspected bot,
and keeps the truth. Run it from a shell with ``python -m crawler.localsite --pages DIR``.
"""

from crawler.localsite.hostile import KINDS, HostileAnswer, HostileMode
from crawler.localsite.pages import Page, PageStore
from crawler.localsite.rules import DEFAULT_ROBOTS_TXT, Rule, http_date, robots_txt
from crawler.localsite.server import LocalSite, RequestRecord

__all__ = [
    "DEFAULT_ROBOTS_TXT",
    "KINDS",
    "HostileAnswer",
    "HostileMode",
    "LocalSite",
    "Page",
    "PageStore",
    "RequestRecord",
    "Rule",
    "http_date",
    "robots_txt",
]

"""Imported by the parse pool's fork server as it starts: it dies with the crawl.

Nothing else imports this module: importing it is what makes the importing process die with
its parent (see :mod:`crawler.spiders.parse_pool`). The workers the fork server forks inherit
it, and with it the fork server's pid, which they check their parent against.
"""

from __future__ import annotations

import os

from crawler.spiders.parse_pool import die_with_parent

die_with_parent()
FORK_SERVER_PID = os.getpid()

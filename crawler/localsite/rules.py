"""What the local site does besides serving pages: robots.txt, and per-path rules from tests.

A :class:`Rule` makes matching requests slow, answer an error or ``Retry-After``, serve an
anti-bot page, or drop the connection, for all requests or only the next ``times`` of them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from fnmatch import fnmatchcase

# The real site's robots.txt (AI and SEO bot sections left out: they name other agents).
REAL_DISALLOWED = ("/js/", "/user/", "/action/", "/projects/")
REAL_CRAWL_DELAY = 8.0


def robots_txt(
    crawl_delay: float | None = REAL_CRAWL_DELAY, disallow: tuple[str, ...] = REAL_DISALLOWED
) -> str:
    """A robots.txt like the site's: ``User-agent: *``, ``Allow: /``, a Crawl-delay, Disallows."""
    lines = ["User-agent: *", "Allow: /"]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    lines += [f"Disallow: {path}" for path in disallow]
    return "\n".join(lines) + "\n"


DEFAULT_ROBOTS_TXT = robots_txt()


def http_date(timestamp: float) -> str:
    """An HTTP-date (``Retry-After`` form 2) for a POSIX timestamp."""
    return formatdate(timestamp, usegmt=True)


@dataclass
class Rule:
    """How to answer requests whose path matches a pattern (``fnmatch``, query excluded).

    ``status=None`` keeps the recorded page (useful with ``delay`` for a slow response).
    ``antibot`` serves the stored anti-bot page of that kind (``challenge``, ``captcha``,
    ``ip_blocked``) with ``status`` or 200. ``times`` limits the rule to the next N matches.
    ``retry_after`` is sent as given; ``retry_after_date_in`` sends the HTTP-date that many
    seconds after the moment of the answer.
    """

    status: int | None = None
    retry_after: str | None = None
    retry_after_date_in: float | None = None
    delay: float = 0.0
    body: bytes | None = None
    antibot: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop_connection: bool = False
    times: int | None = None
    method: str | None = None
    hits: int = 0


class RuleBook:
    """Thread-safe ordered rules; the first rule that matches and is not used up applies."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, Rule]] = []
        self._lock = threading.Lock()

    def add(self, pattern: str, rule: Rule) -> Rule:
        """Add a rule for paths matching ``pattern``; newer rules are checked first."""
        with self._lock:
            self._rules.insert(0, (pattern, rule))
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> Rule | None:
        """The rule for this request, counting it as used once."""
        with self._lock:
            for pattern, rule in self._rules:
                if rule.method is not None and rule.method.upper() != method.upper():
                    continue
                if not fnmatchcase(path, pattern):
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                rule.hits += 1
                return rule
        return None

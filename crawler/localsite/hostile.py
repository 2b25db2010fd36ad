"""Hostile mode: the local site answers tracklist pages the way the real site treats a suspect.

Each request for a recorded tracklist page gets the true page or, at configured rates, one of
the answers the site gives clients it suspects of being bots (``shared/spec/site-guide.md``):
a decoy with randomised names, a 200 cut short, a redirect off the site, a challenge, captcha
or IP-block page, 429 or 503 with ``Retry-After``, a slow answer, a dropped connection, or
404/410. The choice is a function of (seed, path, how many times the path was asked before),
so the same seed and the same requests give the same answers, and a second crawl of a page
may well get the true page where the first got a decoy. Paths in ``gone`` answer their 404
or 410 every time, like deleted tracklists.

The mode keeps the truth: every answer it chose (:class:`HostileAnswer`), counts per kind,
and the recorded page of every path it answered, for a test to compare with what the service
made of the crawl::

    hostile = HostileMode(seed=7, rates={"decoy": 0.2, "rate_limited": 0.1}, gone={path: 410})
    with LocalSite(store, hostile=hostile) as site:
        crawl(site.base_url)
    hostile.counts()["decoy"], hostile.answers(path), hostile.true_page(path)

Site rules (:meth:`LocalSite.add_rule`) still win: hostile mode answers only what no rule took.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Final

from crawler.localsite.decoy import decoy_page
from crawler.localsite.pages import Page, PageStore
from crawler.localsite.rules import Rule

TRUE: Final = "true"
# The hostile answers, in the order the seeded draw walks them (changing it changes every plan).
KINDS: Final = (
    "decoy",  # the page with one part of every track's name randomised
    "truncated",  # 200, the body cut at ``truncate_at`` of its length
    "redirect",  # 302 to another host (``redirect_hosts``)
    "challenge",  # the stored anti-bot pages, as 200s
    "captcha",
    "ip_blocked",
    "rate_limited",  # 429 with Retry-After
    "unavailable",  # 503 with Retry-After
    "slow",  # the true page after ``slow_seconds``
    "dropped",  # the connection closed without an answer
    "not_found",  # 404
    "gone",  # 410
)
ANTIBOT_KINDS: Final = ("challenge", "captcha", "ip_blocked")
_STATUS: Final = {"rate_limited": 429, "unavailable": 503, "not_found": 404, "gone": 410}
_GONE_KIND: Final = {404: "not_found", 410: "gone"}
_METHODS: Final = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class HostileAnswer:
    """What the site answered one request for ``path``, the ``nth`` (0-based) for that path.

    ``status`` is the HTTP status sent, -1 for a dropped connection; ``location`` is the
    redirect target of a ``redirect``.
    """

    path: str
    nth: int
    kind: str
    status: int
    location: str | None = None


@dataclass(eq=False)
class HostileMode:
    """Hostile answers for tracklist pages, by seed; see the module docstring.

    ``rates`` maps kinds of :data:`KINDS` to probabilities (their sum at most 1; the rest is
    the true page). ``gone`` maps paths to 404 or 410, answered on every request, recorded
    page or not. ``paths`` (``fnmatch``, query excluded) selects the pages hostile mode
    answers; others, and paths the store lacks, are served as usual. In ``redirect_hosts``,
    ``{port}`` is the site's own port: ``localhost:{port}`` is the same server under another
    host name (a client that follows shows up in the request log), ``127.0.0.1:9`` a port
    where nothing listens.
    """

    seed: int
    rates: Mapping[str, float] = field(default_factory=dict)
    gone: Mapping[str, int] = field(default_factory=dict)
    paths: str = "/tracklist/*"
    truncate_at: float = 0.5
    slow_seconds: float = 2.0
    retry_after: int = 5
    redirect_hosts: tuple[str, ...] = ("localhost:{port}", "127.0.0.1:9")
    _answers: list[HostileAnswer] = field(default_factory=list, init=False, repr=False)
    _asked: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _truth: dict[str, bytes] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown hostile kinds {sorted(unknown)}; known: {KINDS}")
        if (
            any(not 0 <= rate <= 1 for rate in self.rates.values())
            or sum(self.rates.values()) > 1 + 1e-9
        ):
            raise ValueError(f"rates must be in [0, 1] and sum to at most 1: {dict(self.rates)}")
        wrong = {path: status for path, status in self.gone.items() if status not in _GONE_KIND}
        if wrong:
            raise ValueError(f"gone pages answer 404 or 410, not {wrong}")
        if not 0 < self.truncate_at < 1:
            raise ValueError(f"truncate_at must be between 0 and 1, not {self.truncate_at}")
        if not self.redirect_hosts:
            raise ValueError("redirect_hosts must name at least one host")

    # --- the plan ---------------------------------------------------------------------------

    def plan(self, path: str, nth: int) -> str:
        """The kind of answer for the ``nth`` (0-based) request of ``path``: a pure function.

        A ``decoy`` planned for a page without named rows is answered (and logged) as the
        true page: there is nothing to randomise.
        """
        if path in self.gone:
            return _GONE_KIND[self.gone[path]]
        draw = self._random(path, nth).random()
        for kind in KINDS:
            draw -= self.rates.get(kind, 0.0)
            if draw < 0:
                return kind
        return TRUE

    def _random(self, path: str, nth: int, purpose: str = "kind") -> random.Random:
        # A string seed is hashed with SHA-512: the same in every process, whatever PYTHONHASHSEED.
        return random.Random(f"{self.seed}|{path}|{nth}|{purpose}")

    # --- answering (called by LocalSite for every request no rule took) ---------------------

    def rule_for(self, method: str, path: str, store: PageStore, port: int) -> Rule | None:
        """The answer to this request as a one-off :class:`Rule`; None serves the recorded page.

        Logs the answer (a true page too) and remembers the recorded page as the truth.
        """
        if method.upper() not in _METHODS:
            return None
        page = store.find("GET", path, {})
        if path not in self.gone and (page is None or not fnmatchcase(path, self.paths)):
            return None
        with self._lock:
            nth = self._asked[path]
            self._asked[path] += 1
        kind = self.plan(path, nth)
        rule, kind = self._rule(kind, path, nth, page, store, port)
        if rule is not None and rule.drop_connection:
            status = -1
        elif rule is not None and rule.status is not None:
            status = rule.status
        else:  # the recorded page, on time or late
            assert page is not None
            status = page.status
        location = rule.headers.get("Location") if rule is not None else None
        with self._lock:
            self._answers.append(HostileAnswer(path, nth, kind, status, location))
            if page is not None:
                self._truth[path] = page.body
        return rule

    def _rule(
        self, kind: str, path: str, nth: int, page: Page | None, store: PageStore, port: int
    ) -> tuple[Rule | None, str]:
        if kind in _GONE_KIND.values():  # the only answers for a path the store lacks
            return Rule(status=_STATUS[kind]), kind
        assert page is not None
        if kind == TRUE:
            return None, TRUE
        if kind == "decoy":
            body = decoy_page(page.body, self._random(path, nth, "decoy"))
            if body == page.body:
                return None, TRUE
            return Rule(status=200, body=body, headers=dict(page.headers)), kind
        if kind == "truncated":
            cut = page.body[: int(len(page.body) * self.truncate_at)]
            return Rule(status=200, body=cut, headers=dict(page.headers)), kind
        if kind == "redirect":
            host = self._random(path, nth, "redirect").choice(self.redirect_hosts)
            location = f"http://{host.format(port=port)}{path}"
            return Rule(status=302, headers={"Location": location}), kind
        if kind in ANTIBOT_KINDS:
            if kind not in store.antibot:
                raise LookupError(f"no {kind!r} page loaded (load the real pages)")
            return Rule(status=200, antibot=kind), kind
        if kind in ("rate_limited", "unavailable"):
            return Rule(status=_STATUS[kind], retry_after=str(self.retry_after)), kind
        if kind == "slow":  # no status: the recorded page, late
            return Rule(delay=self.slow_seconds), kind
        assert kind == "dropped"
        return Rule(drop_connection=True), kind

    # --- the truth --------------------------------------------------------------------------

    def answers(self, path: str | None = None) -> list[HostileAnswer]:
        """Every answer chosen so far, oldest first (only ``path``'s when given)."""
        with self._lock:
            return [a for a in self._answers if path is None or a.path == path]

    def counts(self) -> Counter[str]:
        """How many answers of each kind (``true`` included) were sent so far."""
        with self._lock:
            return Counter(answer.kind for answer in self._answers)

    def true_page(self, path: str) -> bytes | None:
        """The recorded page behind the answers for ``path`` (None if never asked or absent)."""
        with self._lock:
            return self._truth.get(path)

    def truth(self) -> dict[str, bytes]:
        """The recorded page of every path answered so far."""
        with self._lock:
            return dict(self._truth)

"""Recorded pages for the local site, and the loaders that fill a :class:`PageStore`.

Pages come from three kinds of source, which can be mixed in one store:

- a manifest (``manifest.json``) mapping ``"[METHOD ]/path[?query]"`` to a file, or to
  ``{"file", "status", "content_type", "match"}``;
- the real pages of 1001tracklists.com (``../shared/real-pages``), each mapped by its own
  ``<link rel="canonical">``; search results answer ``POST /search/result.php`` for the query
  they were captured with; anti-bot pages are kept aside, served only when a rule asks;
- betamax cassettes (``{"http_interactions": [...]}``), as written by ``tracklists record``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MANIFEST_NAME = "manifest.json"
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json"
SEARCH_PATH = "/search/result.php"
# Kinds of anti-bot page, by the file-name prefix the real-pages folder uses for them.
ANTIBOT_PREFIXES: dict[str, str] = {
    "challenge_": "challenge",
    "captcha_": "captcha",
    "block_": "ip_blocked",
}
# Hop-by-hop or length headers: the server computes its own for the body it sends.
_SKIPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_CANONICAL = re.compile(rb"""<link\s+rel=["']canonical["']\s+href=["']([^"']+)["']""", re.I)
_MAIN_SEARCH = re.compile(
    rb"""<input[^>]*\bname=["']main_search["'][^>]*\bvalue=["']([^"']*)["']""", re.I
)
_MEDIALINK_FILE = re.compile(r"ajax_get-medialink_(\d+)\.json")


@dataclass(frozen=True)
class Page:
    """One recorded response: what the local site sends for a matching request."""

    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", HTML_TYPE),)
    # Form or query parameters the request must carry (any of the listed values; "" = absent).
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    def accepts(self, params: Mapping[str, str]) -> bool:
        """True when every parameter named in ``match`` has one of the accepted values."""
        return all(
            _norm(params.get(name, "")) in {_norm(v) for v in values}
            for name, values in self.match.items()
        )


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def route_key(method: str, target: str) -> str:
    """The store's key for a request: ``"GET /path?query"`` (the query only when present)."""
    parts = urlsplit(target)
    path = parts.path or "/"
    return f"{method.upper()} {path}?{parts.query}" if parts.query else f"{method.upper()} {path}"


class PageStore:
    """Pages by method and path, plus the anti-bot pages rules can serve on demand."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Page]] = {}
        self.antibot: dict[str, Page] = {}

    def __len__(self) -> int:
        return sum(len(pages) for pages in self._routes.values())

    def add(self, method: str, target: str, page: Page) -> None:
        """Serve ``page`` for ``method target``; earlier pages for the same route win ties."""
        self._routes.setdefault(route_key(method, target), []).append(page)

    def routes(self) -> list[str]:
        """Every route the store answers, sorted (for listings and the CLI banner)."""
        return sorted(self._routes)

    def find(self, method: str, target: str, params: Mapping[str, str]) -> Page | None:
        """The page for a request: exact path+query first, then the path alone."""
        parts = urlsplit(target)
        keys = [route_key(method, target)]
        if parts.query:
            keys.append(route_key(method, parts.path))
        if method.upper() == "HEAD":
            keys += [k.replace("HEAD ", "GET ", 1) for k in keys]
        for key in keys:
            for page in self._routes.get(key, []):
                if page.accepts(params):
                    return page
        return None

    # --- loaders ----------------------------------------------------------------------------

    def load_directory(self, directory: Path) -> None:
        """Load a folder: its manifest, its cassettes, and its real pages by canonical URL."""
        manifest = directory / MANIFEST_NAME
        listed: set[Path] = set()
        if manifest.is_file():
            listed = self.load_manifest(manifest)
        for path in sorted(directory.glob("*.json")):
            if path != manifest and path not in listed and _is_cassette(path):
                self.load_cassette(path)
        self.load_real_pages(p for p in sorted(directory.iterdir()) if p not in listed)

    def load_manifest(self, manifest: Path) -> set[Path]:
        """Load ``manifest.json``; return the files it named (not to be mapped again)."""
        entries: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        used: set[Path] = set()
        for route, spec in entries.items():
            method, _, target = route.partition(" ") if " " in route else ("GET", "", route)
            spec = {"file": spec} if isinstance(spec, str) else dict(spec)
            file = (manifest.parent / spec["file"]).resolve()
            used.add(file)
            content_type = spec.get("content_type") or _guess_type(file)
            match = {k: _as_tuple(v) for k, v in spec.get("match", {}).items()}
            page = Page(
                body=strip_header_dump(file.read_bytes()),
                status=int(spec.get("status", 200)),
                headers=(("Content-Type", content_type),),
                match=match,
                source=str(file),
            )
            self.add(method, target, page)
        return used

    def load_real_pages(self, files: Iterable[Path]) -> None:
        """Map saved site pages by their canonical URL; keep anti-bot pages aside by kind."""
        search_pages: list[Page] = []
        for path in files:
            if not path.is_file():
                continue
            kind = next((k for p, k in ANTIBOT_PREFIXES.items() if path.name.startswith(p)), None)
            if path.suffix == ".json":
                self._load_ajax_file(path)
                continue
            if path.suffix != ".html":
                continue
            body = strip_header_dump(path.read_bytes())
            if kind is not None:
                # Their canonical URL is the page they stand in front of: never map them there.
                self.antibot.setdefault(kind, Page(body=body, source=str(path)))
                continue
            found = _CANONICAL.search(body)
            if found is None:
                continue
            target = urlsplit(found.group(1).decode()).path or "/"
            if target == SEARCH_PATH:
                query = _MAIN_SEARCH.search(body)
                search_query = query.group(1).decode() if query else ""
                match = {"main_search": (html.unescape(search_query),), "page": ("", "1")}
                page = Page(body=body, match=match, source=str(path))
                search_pages.append(page)
                self.add("POST", target, page)
            else:
                self.add("GET", target, Page(body=body, source=str(path)))
        if search_pages:
            # The site answers any query with some results page; page 2+ was never recorded.
            first = search_pages[0]
            self.add("POST", SEARCH_PATH, Page(first.body, match={"page": ("", "1")}))

    def _load_ajax_file(self, path: Path) -> None:
        found = _MEDIALINK_FILE.fullmatch(path.name)
        if found is None:
            return
        target = f"/ajax/get_medialink.php?idObject=5&idItem={found.group(1)}"
        page = Page(body=path.read_bytes(), headers=(("Content-Type", JSON_TYPE),))
        self.add("GET", target, page)

    def load_cassette(self, path: Path) -> int:
        """Load a betamax cassette's interactions; return how many were added."""
        data = json.loads(path.read_text(encoding="utf-8"))
        count = 0
        for interaction in data.get("http_interactions", []):
            request, response = interaction["request"], interaction["response"]
            target = urlsplit(request["uri"])
            route = f"{target.path or '/'}?{target.query}" if target.query else target.path
            headers = tuple(
                (name, value)
                for name, values in response.get("headers", {}).items()
                if name.lower() not in _SKIPPED_HEADERS
                for value in (values if isinstance(values, list) else [values])
            )
            match = _form_match(request)
            page = Page(
                body=_cassette_body(response.get("body", {})),
                status=int(response["status"]["code"]),
                headers=headers,
                match=match,
                source=f"{path}#{request['uri']}",
            )
            self.add(request["method"], route or "/", page)
            count += 1
        return count


def strip_header_dump(body: bytes) -> bytes:
    """Drop an HTTP header block some captures start with (``HTTP/1.1 200 ...``)."""
    if body.startswith(b"HTTP/1.") and b"\r\n\r\n" in body[:16384]:
        return body.split(b"\r\n\r\n", 1)[1]
    if body.startswith(b"HTTP/1.") and b"\n\n" in body[:16384]:
        return body.split(b"\n\n", 1)[1]
    return body


def _as_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _guess_type(path: Path) -> str:
    return JSON_TYPE if path.suffix == ".json" else HTML_TYPE


def _is_cassette(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "http_interactions" in data


def _cassette_body(body: Mapping[str, Any]) -> bytes:
    if "base64_string" in body:
        return base64.b64decode(body["base64_string"])
    text = body.get("string") or ""
    return str(text).encode(body.get("encoding") or "utf-8")


def _form_match(request: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """A recorded POST answers the same form again (any other method: no constraint)."""
    if request["method"].upper() != "POST":
        return {}
    raw = _cassette_body(request.get("body", {})).decode("utf-8", "replace")
    return {k: (v[0],) for k, v in parse_qs(raw, keep_blank_values=True).items()}

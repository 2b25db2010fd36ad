"""Benchmark: our tracklist parser against a straightforward BeautifulSoup extraction.

Usage: ``uv run python bench/parse.py [REAL_PAGES_DIR] [--runs N]``

For every real tracklist page it prints the median milliseconds of ``parse_page`` (bytes in,
typed tracklist out) and of a plain ``BeautifulSoup(html.parser)`` extraction of the same
rows (number, cue, track text, label, version extras), then the ratio. The goal is ours <=
1/10 of the BeautifulSoup time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere, without installing

from crawler.pages import TracklistPage, parse_page  # noqa: E402

DEFAULT_PAGES = ROOT.parent / "shared" / "real-pages"


def ours(body: bytes) -> int:
    """Our parser: classify + full typed tracklist."""
    page = parse_page(body)
    assert isinstance(page, TracklistPage)
    return page.parsed_row_count


def beautifulsoup(body: bytes) -> int:
    """What a first attempt would write: html.parser and CSS selectors, the same fields."""
    soup = BeautifulSoup(body, "html.parser")
    rows = []
    for row in soup.select(".tlpItem"):
        value = row.select_one(".trackValue")
        if value is None:
            continue
        number = row.select_one("[id$=_tracknumber_value]")
        cue = row.select_one(".cue")
        label = row.select_one(".trackLabel")
        extras = [
            extra.get_text(" ", strip=True) for extra in row.select(".trackEditData, .trackStatus")
        ]
        rows.append(
            (
                number.get_text(strip=True) if number else None,
                cue.get_text(strip=True) if cue else None,
                value.get_text(" ", strip=True),
                label.get_text(strip=True) if label else None,
                extras,
                "tlpSubTog" in (row.get("class") or []),
            )
        )
    heading = soup.select_one("#pageTitle")
    _ = heading.get_text(" ", strip=True) if heading else None
    return len(rows)


def median_ms(
    first: Callable[[bytes], int], second: Callable[[bytes], int], body: bytes, runs: int
) -> tuple[float, float]:
    """Median ms of each function, runs interleaved so machine load hits both alike."""
    if first(body) != second(body):  # warm-up, and both must find the same rows
        raise SystemExit(f"row counts differ: {first(body)} vs {second(body)}")
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for function, bucket in ((first, timings[0]), (second, timings[1])):
            start = time.perf_counter()
            function(body)
            bucket.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings[0]), statistics.median(timings[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    pages = sorted(args.pages.glob("tracklist_*.html"))
    if not pages:
        sys.exit(f"no tracklist_*.html pages in {args.pages}")
    print(f"{'page':<70} {'KB':>5} {'ours ms':>8} {'bs4 ms':>8} {'ratio':>6}")
    ours_all, soup_all = [], []
    for page in pages:
        body = page.read_bytes()
        ours_ms, soup_ms = median_ms(ours, beautifulsoup, body, args.runs)
        ours_all.append(ours_ms)
        soup_all.append(soup_ms)
        print(
            f"{page.name[:70]:<70} {len(body) // 1024:>5} {ours_ms:>8.2f} {soup_ms:>8.2f}"
            f" {ours_ms / soup_ms:>6.3f}"
        )
    ours_median, soup_median = statistics.median(ours_all), statistics.median(soup_all)
    print(
        f"median per page: ours {ours_median:.2f} ms, BeautifulSoup(html.parser) "
        f"{soup_median:.2f} ms, ratio {ours_median / soup_median:.3f} "
        f"(ours is {soup_median / ours_median:.1f}x faster; goal <= 0.100)"
    )


if __name__ == "__main__":
    main()

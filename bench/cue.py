"""Benchmark: every real tracklist through every format, and our sheets back through parse.

Usage: ``uv run python bench/cue.py [REAL_PAGES_DIR] [--runs N]``

Prints, per format, the median microseconds of ``cue.export`` over the real tracklists
(``missing_cue="estimate"``, the most work), and for the CUE variants the median of
``cue.parse`` on the result. Pure CPU: no readers, no audio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere, without installing

from cli.cue import to_tracklist  # noqa: E402
from cue import FORMATS, Options, Tracklist, export, parse  # noqa: E402

DEFAULT_PAGES = ROOT.parent / "shared" / "real-pages"


def _median_us(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    arguments.add_argument("--runs", type=int, default=50)
    args = arguments.parse_args()
    tracklists: list[Tracklist] = [
        to_tracklist(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((args.pages / "expected").glob("tracklist_*.json"))
    ]
    options = Options(missing_cue="estimate", long_set="split")
    print(f"{len(tracklists)} tracklists, {args.runs} runs, median per tracklist")
    print(f"{'format':<12} {'export µs':>10} {'parse µs':>10}")
    for name, found in FORMATS.items():
        export_us = statistics.median(
            _median_us(args.runs, partial(export, t, name, options)) for t in tracklists
        )
        parse_us = ""
        if found.kind == "cue":
            texts = [export(t, name, options).documents[0] for t in tracklists]
            median = statistics.median(_median_us(args.runs, partial(parse, x)) for x in texts)
            parse_us = f"{median:.0f}"
        print(f"{name:<12} {export_us:10.0f} {parse_us:>10}")


if __name__ == "__main__":
    main()

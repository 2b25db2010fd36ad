"""A tiny crawl with the project's settings, run in a subprocess by the politeness tests.

``python politeness_crawl.py '{"urls": [...], "settings": {...}}'`` crawls the URLs with a
one-callback spider and prints one JSON line: the items, the failed requests (exception
class and anti-bot page type), the anti-bot signals received and the crawl's stats.
A subprocess per crawl gives each one a fresh Twisted reactor.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/15"
USER_AGENT = "TracklistService-test/1 (+mailto:ops@example.org)"
# Request arrivals are measured at the server; localhost delivery jitter stays far below this.
TOLERANCE = 0.01
TRACKLISTS = [
    "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
    "/tracklist/nsgpmht/curbi-tape-06-2021-03-12.html",
    "/tracklist/l3uw499/matroda-club-space-miami-united-states-2023-08-05.html",
    "/tracklist/1pmwyfn1/max-styler-circuitgrounds-edc-las-vegas-united-states-2025-05-16.html",
    "/tracklist/25fhn7c9/sven-vath-time-warp-maimarkthalle-mannheim-germany-2024-10-25.html",
]


def gaps(records: list[Any]) -> list[float]:
    """Seconds between consecutive request arrivals in a local-site log."""
    return [b.time - a.time for a, b in itertools.pairwise(records)]


def run_crawl(urls: list[str], settings: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """Crawl ``urls`` in a new process with the project settings plus ``settings``."""
    return json.loads(start_crawl(urls, settings).communicate(timeout=timeout)[0])


def start_crawl(
    urls: list[str], settings: dict[str, Any], barrier: tuple[Path, int] | None = None
) -> subprocess.Popen[str]:
    """Start the crawl; ``communicate()[0]`` is its JSON result.

    With ``barrier=(folder, parties)`` the crawl starts only once ``parties`` crawls sharing
    that folder are ready, so parallel workers really overlap despite uneven start-up times.
    """
    config = json.dumps(
        {
            "urls": urls,
            "settings": settings,
            "barrier": [str(barrier[0]), barrier[1]] if barrier else None,
        }
    )
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), config],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def _main(config: dict[str, Any]) -> None:
    from scrapy import Request, Spider, signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response
    from scrapy.utils.project import get_project_settings
    from twisted.python.failure import Failure

    from crawler.middlewares.antibot import antibot_detected

    result: dict[str, Any] = {"items": [], "errors": [], "antibot_signals": []}

    class PolitenessSpider(Spider):
        name = "politeness_test"

        async def start(self) -> AsyncIterator[Request]:
            for url in config["urls"]:
                yield Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

        def parse(self, response: Response) -> Iterator[dict[str, Any]]:
            yield {
                "url": response.url,
                "status": response.status,
                "page_type": response.meta.get("tracklist_page_type"),
            }

        def failed(self, failure: Failure) -> None:
            error = failure.value
            result["errors"].append(
                {
                    "url": failure.request.url,  # type: ignore[attr-defined]
                    "error": type(error).__name__,
                    "page_type": getattr(error, "page_type", None),
                }
            )

    settings = get_project_settings()
    settings.setdict(
        # The service's pipelines store tracklists: these items are only the test's record.
        {"LOG_LEVEL": "WARNING", "ITEM_PIPELINES": {}, **config["settings"]},
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PolitenessSpider)

    def on_item(item: dict[str, Any]) -> None:
        result["items"].append(item)

    def on_antibot(page_type: str, pause: float, **_: Any) -> None:
        result["antibot_signals"].append({"page_type": page_type, "pause": pause})

    crawler.signals.connect(on_item, signal=signals.item_scraped)
    crawler.signals.connect(on_antibot, signal=antibot_detected)
    if config["barrier"]:
        folder, parties = Path(config["barrier"][0]), config["barrier"][1]
        (folder / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + 30
        while len(list(folder.glob("ready-*"))) < parties and time.monotonic() < deadline:
            time.sleep(0.01)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    result["stats"] = {k: v for k, v in crawler.stats.get_stats().items() if "/" in k}
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _main(json.loads(sys.argv[1]))

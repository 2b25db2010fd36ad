"""The replay site on a host of its own, for the multi-host test.

``python multihost_site.py '{"pages": DIR, "count": N, "crawl_delay": S, "port": P, "log": F}'``
serves the real tracklist pages of ``DIR`` as ``N`` distinct tracklists (the ones
:func:`crawler.localsite.synthetic.add_distinct_tracklists` makes, so the test knows their
URLs) on every address of its host, announcing ``Crawl-delay: S``. On SIGTERM it writes every
request it saw to ``F``, one JSON line each (arrival time, path, client address, User-Agent).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(config: dict[str, object]) -> None:
    from crawler.localsite import LocalSite, robots_txt
    from crawler.localsite.pages import PageStore
    from crawler.localsite.synthetic import add_distinct_tracklists

    pages = Path(str(config["pages"]))
    store = PageStore()
    bodies = [path.read_bytes() for path in sorted(pages.glob("tracklist_*.html"))]
    add_distinct_tracklists(store, bodies, int(str(config["count"])))
    site = LocalSite(
        store,
        robots_txt=robots_txt(crawl_delay=float(str(config["crawl_delay"]))),
        host="0.0.0.0",
        port=int(str(config["port"])),
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        site.serve_forever(announce=lambda url: print(f"serving at {url}", flush=True))
    except KeyboardInterrupt:
        pass
    finally:
        with Path(str(config["log"])).open("w", encoding="utf-8") as log:
            for record in site.requests():
                line = {
                    "time": record.wall_time,
                    "path": record.path,
                    "client": record.client[0],
                    "agent": record.user_agent,
                    "status": record.status,
                }
                log.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(json.loads(sys.argv[1]))

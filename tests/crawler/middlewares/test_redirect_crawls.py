"""A crawl whose robots.txt redirects elsewhere: the other host is never asked for anything.

robots.txt requests go through the same downloader middlewares as pages, so the redirect
check covers them too; the site's rules then stay unknown and the request is dropped.
"""

from __future__ import annotations

from typing import Any

import pytest
from politeness_crawl import TRACKLISTS, run_crawl

from crawler.localsite import LocalSite, Rule, robots_txt

pytestmark = pytest.mark.programs


def test_a_robots_txt_redirected_elsewhere_is_not_followed(
    site: LocalSite, crawl_settings: dict[str, Any]
) -> None:
    with LocalSite(robots_txt=robots_txt(crawl_delay=None)) as elsewhere:
        site.add_rule("/robots.txt", Rule(status=302, headers={"Location": elsewhere.url("/r")}))
        settings = {
            **crawl_settings,
            "TRACKLIST_BASE_URL": site.base_url,
            "TRACKLIST_ROBOTS_5XX_DEFER": 0.1,
            "TRACKLIST_ROBOTS_5XX_MAX_ATTEMPTS": 1,
        }
        result = run_crawl([site.url(TRACKLISTS[0])], settings)
        assert elsewhere.requests() == []
    assert [(r.path, r.status) for r in site.requests()] == [("/robots.txt", 302)]
    assert result["stats"]["redirects/off_site"] == 1
    assert result["stats"]["robotstxt/exception_count/OffSiteRedirect"] == 1
    assert [e["error"] for e in result["errors"]] == ["RobotsTxtUnavailable"]
    assert result["items"] == []

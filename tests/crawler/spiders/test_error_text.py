"""Crawl-request errors as API clients read them: what went wrong, never where."""

from __future__ import annotations

import pytest
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError

from crawler.middlewares.redirects import OffSiteRedirect
from crawler.middlewares.robots import RobotsTxtUnavailable
from crawler.spiders.errors import error_text, without_addresses
from domain.site import Problem, UrlRejected


def test_an_off_site_redirect_says_so_and_names_no_target() -> None:
    error = OffSiteRedirect(UrlRejected(Problem.HOST, "the host localhost is not the site"))
    assert error_text(error) == "off_site_redirect: the site redirected to another host"
    assert error.problem is Problem.HOST


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            ConnectionRefusedError("111", "Connection refused"),
            "ConnectionRefusedError: Connection was refused by other side: 111:"
            " Connection refused.",
        ),
        (
            TCPTimedOutError("110", "10.0.0.5:80"),
            "TCPTimedOutError: TCP connection timed out: 110: <address>.",
        ),
        (
            RobotsTxtUnavailable("127.0.0.1:8080", 3),
            "RobotsTxtUnavailable: robots.txt of <address> failed 3 times in a row",
        ),
        (
            RobotsTxtUnavailable("[::1]:8080", 1),
            "RobotsTxtUnavailable: robots.txt of <address> failed 1 times in a row",
        ),
        (
            IgnoreRequest("Getting http://10.0.0.5:8080/tracklist/x/y.html took longer than 9 s"),
            "IgnoreRequest: Getting <url> took longer than 9 s",
        ),
        (
            DNSLookupError("no results for hostname lookup: www.1001tracklists.com"),
            "DNSLookupError: DNS lookup failed: no results for hostname lookup:"
            " www.1001tracklists.com.",
        ),
    ],
)
def test_errors_keep_what_went_wrong_and_lose_where(error: Exception, shown: str) -> None:
    assert without_addresses(error_text(error)) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("connect to 192.168.1.20 failed", "connect to <address> failed"),
        ("peer fe80::1%eth0 reset", "peer <address> reset"),
        (
            "peer ::1 and [2001:db8::7] and 2001:db8::7:443",
            "peer <address> and <address> and <address>",
        ),
        ("(internal.corp:6379) refused", "(<address>) refused"),
        ("at localhost:8000.", "at <address>."),
        ("'ftp://u:p@h/x' and <https://a.b/c>", "'<url>' and <<url>>"),
        ("retry at 12:30:45 after 0.5 s: HTTP 503", "retry at 12:30:45 after 0.5 s: HTTP 503"),
        ("[Errno 111] Connection refused", "[Errno 111] Connection refused"),
        ("robots.txt of the site, v1.2.3", "robots.txt of the site, v1.2.3"),
    ],
)
def test_urls_addresses_and_ports_are_replaced(text: str, shown: str) -> None:
    assert without_addresses(text) == shown

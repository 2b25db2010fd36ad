"""SSRF-safe URL intake: only tracklist pages on the configured site get through.

Every refusal happens in a pure function, before any DNS lookup or connection: a socket
guard makes any attempt to connect fail the test.
"""

from __future__ import annotations

import socket

import pytest

from domain.site import (
    Problem,
    UrlRejected,
    canonical_tracklist_url,
    check_redirect,
    site_hosts,
)

BASE = "https://www.1001tracklists.com"
GOOD = "https://www.1001tracklists.com/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything tries to resolve or connect."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the URL check touched the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize(
    "url",
    [
        GOOD,
        "https://1001tracklists.com/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
        "http://www.1001tracklists.com/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
        "HTTPS://WWW.1001Tracklists.COM/tracklist/2HJNQR0T/Bicep-NTS-Radio-2022-06-16.html",
        "https://www.1001tracklists.com:443/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
        "http://www.1001tracklists.com:80/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
        "https://www.1001tracklists.com./tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html",
        f"  {GOOD}?utm_source=x#tracks  ",
    ],
)
def test_accepted_urls_are_canonicalized(url: str) -> None:
    assert canonical_tracklist_url(url, BASE) == GOOD


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        # Loopback and internal addresses, in every spelling.
        ("http://127.0.0.1/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://[::1]/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://[0:0:0:0:0:ffff:127.0.0.1]/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://169.254.169.254/latest/meta-data/", Problem.IP_LITERAL),
        ("http://2130706433/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://0x7f000001/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://0177.0.0.1/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://127.1/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://10.0.0.5/tracklist/1/a.html", Problem.IP_LITERAL),
        # Other schemes.
        ("file:///etc/passwd", Problem.SCHEME),
        ("gopher://127.0.0.1:6379/_FLUSHALL", Problem.SCHEME),
        ("ftp://www.1001tracklists.com/tracklist/1/a.html", Problem.SCHEME),
        ("javascript:alert(1)", Problem.SCHEME),
        ("//www.1001tracklists.com/tracklist/1/a.html", Problem.SCHEME),
        ("www.1001tracklists.com/tracklist/1/a.html", Problem.SCHEME),
        # Userinfo tricks.
        ("https://user@www.1001tracklists.com/tracklist/1/a.html", Problem.USERINFO),
        ("https://www.1001tracklists.com@127.0.0.1/tracklist/1/a.html", Problem.USERINFO),
        ("https://www.1001tracklists.com:pw@evil.example/tracklist/1/a.html", Problem.USERINFO),
        # Other hosts, look-alikes and encodings.
        ("https://evil.example/tracklist/1/a.html", Problem.HOST),
        ("https://www.1001tracklists.com.evil.example/tracklist/1/a.html", Problem.HOST),
        ("https://evil1001tracklists.com/tracklist/1/a.html", Problem.HOST),
        ("https://localhost/tracklist/1/a.html", Problem.HOST),
        ("https://www.1001tracklists.com%2eevil.example/tracklist/1/a.html", Problem.HOST),
        ("https://www.1001trackIists.com/tracklist/1/a.html", Problem.HOST),
        ("https://www.1001tracklistѕ.com/tracklist/1/a.html", Problem.HOST),
        # Ports.
        ("https://www.1001tracklists.com:8080/tracklist/1/a.html", Problem.PORT),
        ("http://www.1001tracklists.com:443/tracklist/1/a.html", Problem.PORT),
        # Paths that are not a tracklist page.
        ("https://www.1001tracklists.com/", Problem.PATH),
        ("https://www.1001tracklists.com/dj/carlcox/index.html", Problem.PATH),
        ("https://www.1001tracklists.com/tracklist/1/../../admin.html", Problem.PATH),
        ("https://www.1001tracklists.com/tracklist/1/a%2f..%2fb.html", Problem.PATH),
        ("https://www.1001tracklists.com/tracklist/1/a.html/x", Problem.PATH),
        # Parser-confusion characters.
        ("https://www.1001tracklists.com\\@evil.example/tracklist/1/a.html", Problem.MALFORMED),
        ("https://www.1001tracklists.com\t.evil.example/tracklist/1/a.html", Problem.MALFORMED),
        ("https://www.1001tracklists.com/tracklist/1/a\n.html", Problem.MALFORMED),
        ("http://[::1/tracklist/1/a.html", Problem.MALFORMED),
        ("https://www.1001tracklists.com:99999/tracklist/1/a.html", Problem.MALFORMED),
        ("", Problem.SCHEME),
        (GOOD + "x" * 3000, Problem.TOO_LONG),
    ],
)
def test_refused_urls_name_the_problem(url: str, problem: Problem) -> None:
    with pytest.raises(UrlRejected) as info:
        canonical_tracklist_url(url, BASE)
    assert info.value.problem is problem, str(info.value)
    assert str(info.value)


def test_non_strings_are_refused() -> None:
    with pytest.raises(UrlRejected):
        canonical_tracklist_url(None, BASE)  # type: ignore[arg-type]


def test_site_hosts_cover_www_and_apex() -> None:
    assert site_hosts(BASE) == {"www.1001tracklists.com", "1001tracklists.com"}
    assert site_hosts("https://1001tracklists.com") == site_hosts(BASE)


def test_canonical_form_follows_the_configured_site() -> None:
    base = "http://mirror.test"
    url = "http://www.mirror.test/tracklist/abc/x-y.html"
    assert canonical_tracklist_url(url, base) == "http://mirror.test/tracklist/abc/x-y.html"


LOCAL = "http://127.0.0.1:8123"
LOCAL_PAGE = LOCAL + "/tracklist/2hjnqr0t/bicep-nts-radio-2022-06-16.html"


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://127.0.0.1/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://127.0.0.1:8000/", Problem.IP_LITERAL),
        ("http://[::1]/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://169.254.169.254/latest/meta-data/", Problem.IP_LITERAL),
        ("http://2130706433/tracklist/1/a.html", Problem.IP_LITERAL),
        ("//127.0.0.1/tracklist/1/a.html", Problem.IP_LITERAL),
        ("https://evil.example/tracklist/1/a.html", Problem.HOST),
        ("http://localhost/tracklist/1/a.html", Problem.HOST),
        ("https://www.1001tracklists.com.evil.example/", Problem.HOST),
        ("https://www.1001tracklists.com:8080/tracklist/1/a.html", Problem.PORT),
        ("http://www.1001tracklists.com:443/tracklist/1/a.html", Problem.PORT),
        ("https://user:pw@www.1001tracklists.com/tracklist/1/a.html", Problem.USERINFO),
        ("https://www.1001tracklists.com@127.0.0.1/", Problem.USERINFO),
        ("file:///etc/passwd", Problem.SCHEME),
        ("gopher://www.1001tracklists.com/", Problem.SCHEME),
        ("https://www.1001tracklists.com\\@evil.example/", Problem.MALFORMED),
        ("/" + "x" * 3000, Problem.TOO_LONG),
    ],
)
def test_redirects_off_the_site_are_refused(location: str, problem: Problem) -> None:
    with pytest.raises(UrlRejected) as info:
        check_redirect(location, GOOD, BASE)
    assert info.value.problem is problem, str(info.value)


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("/tracklist/2hjnqr0t/new-slug.html", BASE + "/tracklist/2hjnqr0t/new-slug.html"),
        ("new-slug.html", BASE + "/tracklist/2hjnqr0t/new-slug.html"),
        (
            "https://1001tracklists.com/tracklist/9x/y.html",
            "https://1001tracklists.com/tracklist/9x/y.html",
        ),
        ("http://www.1001tracklists.com/", "http://www.1001tracklists.com/"),
        ("https://www.1001tracklists.com:443/dj/x/", "https://www.1001tracklists.com:443/dj/x/"),
        # Not only tracklist pages: the site redirects listings, logins and its home too.
        ("/login", BASE + "/login"),
        ("//www.1001tracklists.com/search/", "https://www.1001tracklists.com/search/"),
    ],
)
def test_redirects_on_the_site_are_followed(location: str, target: str) -> None:
    assert check_redirect(location, GOOD, BASE) == target


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://localhost:8123/tracklist/1/a.html", Problem.HOST),
        ("http://www.127.0.0.1:8123/tracklist/1/a.html", Problem.HOST),
        ("http://127.0.0.1:8124/tracklist/1/a.html", Problem.PORT),
        ("http://127.0.0.1/tracklist/1/a.html", Problem.PORT),
        ("https://127.0.0.1/tracklist/1/a.html", Problem.PORT),
        ("http://[::1]:8123/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://127.1:8123/tracklist/1/a.html", Problem.IP_LITERAL),
        ("http://10.0.0.5:8123/", Problem.IP_LITERAL),
        ("http://u@127.0.0.1:8123/", Problem.USERINFO),
    ],
)
def test_a_site_at_an_address_accepts_only_that_address_and_port(
    location: str, problem: Problem
) -> None:
    with pytest.raises(UrlRejected) as info:
        check_redirect(location, LOCAL_PAGE, LOCAL)
    assert info.value.problem is problem, str(info.value)


def test_a_site_at_an_address_follows_its_own_redirects() -> None:
    moved = LOCAL + "/tracklist/abc/new.html"
    assert check_redirect("/tracklist/abc/new.html", LOCAL_PAGE, LOCAL) == moved
    assert check_redirect(moved, LOCAL_PAGE, LOCAL + "/") == moved
    assert (
        check_redirect("https://127.0.0.1:8123/x", LOCAL_PAGE, LOCAL) == "https://127.0.0.1:8123/x"
    )


def test_a_site_on_a_port_refuses_its_default_ports() -> None:
    base = "http://mirror.test:8080"
    with pytest.raises(UrlRejected) as info:
        check_redirect("http://mirror.test/x", base + "/y", base)
    assert info.value.problem is Problem.PORT
    assert check_redirect("http://www.mirror.test:8080/x", base, base) == (
        "http://www.mirror.test:8080/x"
    )


def test_module_is_free_of_flask() -> None:
    import ast
    from pathlib import Path

    import domain.site

    tree = ast.parse(Path(domain.site.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "enum", "ipaddress", "re", "urllib"}, imported

"""The docs page (Swagger UI) works offline: its files come from the app, not a CDN.

The page is loaded in headless Chromium (Debian's ``chromium`` package) from the app served on
127.0.0.1, with every other host made unresolvable; Chromium's network log must show the page
fetching only from the app, and the DOM Swagger UI built must list the operations.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from support.live_server import live_server

from api import create_app
from api.extensions import db
from config.settings import Settings

DOCS = "/api/v1/docs"
# Operations whose rows must be on the rendered page (Swagger UI's data-path attribute).
OPERATIONS = {"/api/v1/search/", "/api/v1/tracklist/{tracklist_id}", "/api/v1/cue/generate"}
# No updater, sign-in or field-trial traffic of the browser's own: only the page's requests.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # Nothing resolves but the app's address: a CDN reference could not load even if tried.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=15000",
]


def test_docs_page_references_only_files_the_app_serves(client: FlaskClient) -> None:
    page = client.get(DOCS)
    assert page.status_code == 200
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    references = [tag["src"] for tag in soup.find_all("script", src=True)]
    references += [tag["href"] for tag in soup.find_all("link", href=True)]
    assert any(reference.endswith("swagger-ui-bundle.js") for reference in references)
    for reference in references:
        assert urlsplit(reference).netloc == "", reference  # a path on this server
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.data) > 1000, reference


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/apt-packages.txt lists it)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return found


@pytest.fixture
def base_url(api_settings: Settings) -> Iterator[str]:
    app = create_app(api_settings)
    with live_server(app) as url:
        yield url
    with app.app_context():
        db.engine.dispose()


def _load(chromium: str, url: str, tmp_path: Path) -> tuple[str, Path]:
    """Load ``url`` in headless Chromium: the DOM after scripts ran, and the network log."""
    net_log = tmp_path / "net-log.json"
    command = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--log-net-log={net_log}",
        "--dump-dom",
        url,
    ]
    # Its own session: on a timeout the browser's helper processes are ended with it.
    browser = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        dom, _ = browser.communicate(timeout=90)
    finally:
        if browser.poll() is None:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()
    assert browser.returncode == 0
    return dom.decode(), net_log


def _requests_of_page(net_log: Path, site: str) -> list[str]:
    """The URLs the page requested: requests isolated under the page's site (its frames)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start_job and params.get("network_isolation_key", "").startswith(site):
            urls.append(params["url"])
    return urls


@pytest.mark.programs
def test_docs_page_renders_offline_in_chromium(base_url: str, tmp_path: Path) -> None:
    chromium = _chromium()
    dom, net_log = _load(chromium, base_url + DOCS, tmp_path)

    requested = _requests_of_page(net_log, "http://127.0.0.1")
    outside = [url for url in requested if not url.startswith(base_url + "/")]
    assert outside == []
    assert f"{base_url}/api/v1/docs/assets/swagger-ui-bundle.js" in requested
    assert f"{base_url}/api/v1/openapi.json" in requested

    rendered = BeautifulSoup(dom, "html.parser")
    paths = {tag["data-path"] for tag in rendered.select(".opblock-summary-path[data-path]")}
    assert paths >= OPERATIONS, sorted(paths)
    assert len(rendered.select(".opblock")) >= 30

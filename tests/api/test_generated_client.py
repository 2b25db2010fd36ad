"""A real client generator (openapi-python-client) turns our OpenAPI document into a working client.

The document the app serves is given to ``openapi-python-client generate`` (run as a program,
offline, warnings fatal); the generated package is imported and makes one call of each
resource group (auth, search, tracklist, CUE) over HTTP against the app on real PostgreSQL and
Redis. Its models parse our answers, so a documented schema that differs from what the API
sends fails here.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from api_data import Catalogue
from api_helpers import PASSWORD
from support.live_server import live_server

from api import create_app
from api.extensions import db
from config.settings import Settings

pytestmark = pytest.mark.programs

PACKAGE = "tracklists_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# The generator has no model for application/zip (the batch download); octet-stream is the
# same bytes to it. Everything else in the document must generate without a warning.
GENERATOR_CONFIG = {
    "package_name_override": PACKAGE,
    "content_type_overrides": {"application/zip": "application/octet-stream"},
}


@pytest.fixture
def base_url(api_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The app over HTTP (werkzeug, threaded) with a CUE storage folder."""
    app = create_app(api_settings, storage_dir=tmp_path / "cue")
    with live_server(app) as url:
        yield url
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client_package(
    base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], ModuleType]]:
    """Generate the client from the served document; a function importing its modules."""
    spec = requests.get(f"{base_url}/api/v1/openapi.json", timeout=10)
    assert spec.status_code == 200
    (tmp_path / "openapi.json").write_text(spec.text)
    (tmp_path / "generator.json").write_text(json.dumps(GENERATOR_CONFIG))
    out = tmp_path / "generated"
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "generator.json",
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        # The generator formats its output with ruff, found on PATH beside this interpreter.
        env={**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(out))
    yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def test_generated_client_calls_each_resource_group(
    client_package: Callable[[str], ModuleType],
    base_url: str,
    catalogue: Catalogue,
    make_user: Callable[..., str],
) -> None:
    generated: Any = client_package("client")
    models: Any = client_package("models")
    anonymous = generated.Client(base_url=base_url, raise_on_unexpected_status=True)

    # auth: a token, then who it belongs to
    username = make_user("reader")
    issue_token: Any = client_package("api.auth.post_api_v1_auth_token")
    token = issue_token.sync(
        client=anonymous, body=models.TokenRequest(username=username, password=PASSWORD)
    )
    assert isinstance(token, models.Token), token
    reader = generated.AuthenticatedClient(
        base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
    )
    whoami: Any = client_package("api.auth.get_api_v1_auth_whoami")
    identity = whoami.sync(client=reader)
    assert isinstance(identity, models.Identity), identity
    assert (identity.username, identity.role) == (username, "reader")

    # search
    search: Any = client_package("api.search.get_api_v1_search")
    found = search.sync(
        client=anonymous,
        query="tiesto",
        search_type=models.GetApiV1SearchSearchType.DJ,
        limit=100,
    )
    assert isinstance(found, models.SearchResponse), found
    tomorrowland = catalogue.ids["tiesto-tomorrowland"]
    assert tomorrowland in {result.id for result in found.results}

    # tracklist
    get_tracklist: Any = client_package("api.tracklists.get_api_v1_tracklist_tracklist_id")
    tracklist = get_tracklist.sync(tracklist_id=tomorrowland, client=anonymous)
    assert isinstance(tracklist, models.Tracklist), tracklist
    assert tracklist.id == tomorrowland
    assert tracklist.url == catalogue.url("tiesto-tomorrowland")
    assert tracklist.tracks
    missing = get_tracklist.sync(tracklist_id=uuid.uuid4(), client=anonymous)
    assert isinstance(missing, models.Problem), missing  # errors are documented problems
    assert (missing.status, missing.type_) == (404, "urn:tracklists:problem:not-found")

    # CUE: generate a sheet, then read it back as the CUE File model
    generate: Any = client_package("api.cue.post_api_v1_cue_generate")
    made = generate.sync(client=reader, body=models.CueRequest(tracklist_id=tomorrowland))
    assert isinstance(made, models.CueFile), made
    assert made.tracklist_id == tomorrowland
    assert "TRACK 01 AUDIO" in made.cue_content
    get_cue: Any = client_package("api.cue.get_api_v1_cue_cue_id")
    again = get_cue.sync(cue_id=made.id, client=anonymous)
    assert isinstance(again, models.CueFile), again
    assert (again.checksum, again.cue_content) == (made.checksum, made.cue_content)

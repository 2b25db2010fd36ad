"""schemathesis against our own OpenAPI document: no server errors, responses as documented.

Every operation is called (through WSGI, on real PostgreSQL and Redis) with generated valid
and invalid input, as an admin, so protected operations are exercised beyond their 401.
``/auth/logout`` is left out: it would revoke the token the other calls use. Then stored
tracklists are requested and every CUE format generated and downloaded, so the documented 200
answers (JSON and each file media type) are checked as well.

schemathesis' own pytest integration (``from_fixture``) does not run under pytest 9, so each
operation's hypothesis strategy is driven here directly: under each of :data:`SEEDS` in turn,
at most :data:`MAX_EXAMPLES` cases per operation and generation mode. Fixed seeds make a run
repeatable (a failure names its seed) and bound its time: the three seeds together send as
many cases (about 2,200) as one random seed of 30 examples did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_data import Catalogue
from api_helpers import PREFIX, bearer
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from config.settings import Settings
from cue import FORMATS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Each seed a test of its own; per seed, operation and generation mode at most this many cases.
SEEDS = (1, 2, 3)
MAX_EXAMPLES = 10
SKIPPED = {"POST /api/v1/auth/logout"}


@pytest.fixture
def app(api_settings: Settings, tmp_path: Path) -> Flask:
    """The app with a media root and a storage folder, so CUE operations run fully."""
    (tmp_path / "media").mkdir()
    return create_app(api_settings, media_root=tmp_path / "media", storage_dir=tmp_path / "cue")


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], chosen: int) -> int:
    """Call ``operation`` with generated cases under seed ``chosen``; how many were sent."""
    sent = 0

    @seed(chosen)
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
    return sent


def _operations(app: Flask) -> tuple[Any, dict[str, Any]]:
    """The app's schema, and its operations by ``METHOD /path``."""
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    operations = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations[f"{operation.method.upper()} {operation.path}"] = operation
    return schema, operations


def _real_cases(schema: Any, catalogue: Catalogue) -> Iterator[tuple[str, dict[str, Any]]]:
    """Requests on stored data, so the 200 answers are checked too (random ids find nothing)."""
    tracklist_id = str(catalogue.ids["cox-timewarp"])
    yield (
        "GET /api/v1/tracklist/{tracklist_id}",
        {"path_parameters": {"tracklist_id": tracklist_id}},
    )
    yield "POST /api/v1/tracklist", {"body": {"url": catalogue.url("cox-timewarp")}}
    yield (
        "GET /api/v1/search/dj/{dj_slug}",
        {"path_parameters": {"dj_slug": f"pager{catalogue.token}"}},
    )
    for name in FORMATS:
        yield "POST /api/v1/cue/generate", {"body": {"tracklist_id": tracklist_id, "format": name}}
    history = {"path_parameters": {"tracklist_id": tracklist_id}}
    yield "GET /api/v1/tracklist/{tracklist_id}/versions", history
    yield (
        "GET /api/v1/tracklist/{tracklist_id}/versions/{version}",
        {"path_parameters": {"tracklist_id": tracklist_id, "version": 1}},
    )
    yield "GET /api/v1/tracklist/{tracklist_id}/diff", {**history, "query": {"from": 1}}
    yield "GET /api/v1/tracklist/{tracklist_id}/conflicts", history
    yield "POST /api/v1/tracklist/{tracklist_id}/drafts", {**history, "body": {}}
    yield "GET /api/v1/tracklist/{tracklist_id}/drafts", history


@pytest.mark.parametrize("chosen", SEEDS)
def test_generated_requests_conform(
    app: Flask, catalogue: Catalogue, login: Callable[[str], dict[str, Any]], chosen: int
) -> None:
    headers = bearer(login("admin")["access_token"])
    _schema, operations = _operations(app)
    failures: dict[str, str] = {}
    sent = 0
    for label, operation in operations.items():
        if label in SKIPPED:
            continue
        for mode in GenerationMode:
            try:
                sent += _fuzz(operation, mode, headers, chosen)
            except Unsatisfiable:
                continue  # no input to make invalid (no parameters, no body)
            except Exception as exc:  # collect every operation's failure, then report them all
                failures[f"{label} ({mode.value})"] = f"{type(exc).__name__}: {exc}"[:2000]
    print(f"\nseed {chosen}: {sent} cases over {len(operations) - len(SKIPPED)} operations")
    assert len(operations) >= 15, list(operations)
    assert sent >= len(operations) * MAX_EXAMPLES  # about half the positive and negative cases
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())


def test_stored_data_answers_conform(
    app: Flask, catalogue: Catalogue, login: Callable[[str], dict[str, Any]]
) -> None:
    headers = bearer(login("admin")["access_token"])
    schema, operations = _operations(app)
    generated = []
    for label, parts in _real_cases(schema, catalogue):
        response = operations[label].Case(**parts).call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code in (200, 201), (label, response.text)
        if label.startswith("POST /api/v1/cue"):
            generated.append(response.json()["id"])
    for cue_id in generated:  # and each file as a download
        case = operations["GET /api/v1/cue/{cue_id}"].Case(
            path_parameters={"cue_id": cue_id}, query={"download": True}
        )
        assert case.call_and_validate(headers=headers, checks=CHECKS).status_code == 200
    # A CUE batch of stored tracklists (201) and its zip (application/zip), as documented.
    tracklists = [str(catalogue.ids["cox-timewarp"]), catalogue.url("cox-space")]
    batch = operations["POST /api/v1/batch/cue"].Case(body={"tracklists": tracklists})
    created = batch.call_and_validate(headers=headers, checks=CHECKS)
    assert created.status_code == 201, created.text
    archive = operations["GET /api/v1/batch/{batch_id}/download"].Case(
        path_parameters={"batch_id": created.json()["id"]}
    )
    assert archive.call_and_validate(headers=headers, checks=CHECKS).status_code == 200

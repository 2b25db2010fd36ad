"""Hostile values in every body and query field of every operation: never a 5xx (issue 16).

Driven by the app's own OpenAPI document: for each operation, hypothesis builds request
bodies from its schema (``$ref`` resolved, nested objects and arrays followed) and query
strings from its parameters, putting NUL characters, lone surrogates, integers of 5,000
digits or beyond 2**63, non-finite numbers and nesting far past the limit into any field,
and sends them as an admin on real PostgreSQL and Redis. Bodies are written as JSON text by
hand: Python's encoder cannot write a 5,000-digit integer. ``/auth/logout`` is left out, as
in test_api_schemathesis: it would revoke the token the other calls use.

Hypothesis picks fields at random; the sweep after it leaves no field to chance: each body
field (nested ones too) and each query parameter of every operation alone gets each kind of
hostile value, the rest of the request valid, and must be refused naming that field.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from api_data import Catalogue
from api_helpers import PREFIX, bearer
from edit_helpers import fresh_set, start_draft
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from api.input_guard import MAX_JSON_DEPTH

EXAMPLES_PER_OPERATION = 12
SKIPPED = {"POST /api/v1/auth/logout"}
Schema = dict[str, Any]


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


HOSTILE_JSON = st.sampled_from(
    [
        json.dumps("a\x00b"),
        json.dumps("\x00"),
        json.dumps("x\ud800"),  # json.dumps writes the escape "\ud800": valid JSON
        json.dumps("\udfff y"),
        "9" * 5000,
        "-" + "9" * 5000,
        str(2**63),
        str(-(2**64)),
        "1e999",
        "NaN",
        "-Infinity",
        _deep(MAX_JSON_DEPTH + 1),
        _deep(5000),
        '{"a":' * 3000 + "1" + "}" * 3000,
    ]
)
HOSTILE_KEYS = st.sampled_from(["k\x00", "k\ud800"])
HOSTILE_QUERY = st.sampled_from(
    ["a%00b", "%00", "%ED%A0%80", "x%ED%B0%80", "9" * 5000, "-" + "9" * 40, str(2**63), "1e999"]
)


class Fuzz:
    """The document, the ids that make requests reach their views, and what was sent."""

    def __init__(self, spec: Schema, ids: dict[str, str]) -> None:
        self.schemas: dict[str, Schema] = spec["components"]["schemas"]
        self.ids = ids
        self.statuses: Counter[int] = Counter()

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def valid_json(self, schema: Schema, name: str) -> str:
        """A plausible value of ``schema`` as JSON text (hostile values go elsewhere)."""
        kind = schema.get("type")
        if "enum" in schema:
            return json.dumps(schema["enum"][0])
        if kind == "integer":
            return str(max(schema.get("minimum", 1), 1))
        if kind == "number":
            return "1.5"
        if kind == "boolean":
            return "true"
        if schema.get("format") == "uuid":
            return json.dumps(self.ids.get(name, str(uuid.uuid4())))
        if schema.get("format") == "date":
            return '"2024-05-01"'
        return json.dumps("x")

    def body(self, draw: st.DrawFn, schema: Schema, name: str = "", depth: int = 0) -> str:
        """JSON text for ``schema``, any part of it possibly hostile."""
        schema = self.resolve(schema)
        if draw(st.integers(0, 3)) == 0:
            return draw(HOSTILE_JSON)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            properties: dict[str, Schema] = schema.get("properties", {})
            required = set(schema.get("required", ()))
            chosen = [key for key in properties if key in required or draw(st.booleans())]
            members = [
                f"{json.dumps(key)}: {self.body(draw, properties[key], key, depth + 1)}"
                for key in chosen
            ]
            if draw(st.integers(0, 5)) == 0:  # a hostile key as well
                members.append(f"{json.dumps(draw(HOSTILE_KEYS))}: 1")
            return "{" + ", ".join(members) + "}"
        if kind == "array" and depth < 4:
            items = [
                self.body(draw, schema.get("items", {}), name, depth + 1)
                for _ in range(draw(st.integers(1, 2)))
            ]
            return "[" + ", ".join(items) + "]"
        return self.valid_json(schema, name)

    def query(self, draw: st.DrawFn, parameters: list[Schema]) -> str:
        """A query string over ``parameters``, any value possibly hostile."""
        pairs = []
        for parameter in parameters:
            if parameter["in"] != "query" or not draw(st.booleans()):
                continue
            if draw(st.booleans()):
                value = draw(HOSTILE_QUERY)
            else:
                value = json.loads(self.valid_json(parameter.get("schema", {}), parameter["name"]))
                value = str(value).lower() if isinstance(value, bool) else str(value)
            pairs.append(f"{parameter['name']}={value}")
        if draw(st.integers(0, 5)) == 0:
            pairs.append(f"{draw(HOSTILE_QUERY)}=1")  # a hostile name too
        return "&".join(pairs)

    def path(self, draw: st.DrawFn, template: str, parameters: list[Schema]) -> str:
        """``template`` with ids that exist, or hostile slugs."""
        for parameter in parameters:
            if parameter["in"] != "path":
                continue
            schema, name = parameter.get("schema", {}), parameter["name"]
            if schema.get("type") == "string" and "format" not in schema:
                value = draw(st.sampled_from(["slug", "a%00b", "%ED%A0%80"]))
            else:
                value = self.ids.get(name) or str(json.loads(self.valid_json(schema, name)))
            template = template.replace("{" + name + "}", value)
        return template


@pytest.fixture
def targets(
    catalogue: Catalogue,
    client: FlaskClient,
    store_sessions: sessionmaker[Session],
    login: Callable[[str], dict[str, Any]],
) -> tuple[dict[str, str], dict[str, str]]:
    """An admin's headers, and ids of a stored set with an open draft."""
    headers = bearer(login("admin")["access_token"])
    tracklist_id, _ = fresh_set(store_sessions)
    draft = start_draft(client, tracklist_id, headers, reason="fuzzed")
    ids = {"tracklist_id": str(tracklist_id), "draft_id": draft["id"], "version": "1"}
    ids["tracklist_url"] = catalogue.url("cox-timewarp")
    return headers, ids


def test_hostile_values_in_every_field_never_answer_5xx(
    client: FlaskClient, targets: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, ids = targets
    spec = client.get(f"{PREFIX}/openapi.json").json
    fuzz = Fuzz(spec, ids)
    operations = 0
    for template, methods in spec["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {template}"
            if method == "parameters" or label in SKIPPED:
                continue
            operations += 1
            parameters = [*methods.get("parameters", []), *operation.get("parameters", [])]
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema", {})
            _fuzz_operation(client, headers, fuzz, method, template, parameters, body_schema)
    sent = sum(fuzz.statuses.values())
    print(f"\n{sent} hostile requests over {operations} operations: {dict(fuzz.statuses)}")
    assert operations >= 30
    assert (
        sent >= operations * EXAMPLES_PER_OPERATION // 2
    )  # hypothesis may stop early on few inputs
    # the hostile values were met, and refused
    assert fuzz.statuses[422] > 0
    assert fuzz.statuses[400] > 0


def _fuzz_operation(
    client: FlaskClient,
    headers: dict[str, str],
    fuzz: Fuzz,
    method: str,
    template: str,
    parameters: list[Schema],
    body_schema: Schema,
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def call(data: st.DataObject) -> None:
        path = fuzz.path(data.draw, template, parameters)
        query = fuzz.query(data.draw, parameters)
        body = fuzz.body(data.draw, body_schema) if body_schema else data.draw(HOSTILE_JSON)
        response = client.open(
            f"{path}?{query}" if query else path,
            method=method.upper(),
            data=body,
            content_type="application/json",
            headers=headers,
        )
        fuzz.statuses[response.status_code] += 1
        assert response.status_code < 500, (
            method,
            path,
            query,
            body[:300],
            response.get_data(True),
        )
        if response.status_code >= 400:
            assert response.content_type == "application/problem+json"

    call()


# One of each kind for the sweep: NUL, lone surrogate, 5,000 digits, past bigint, not finite.
SWEPT_JSON = [json.dumps("a\x00b"), json.dumps("x\ud800"), "9" * 5000, str(2**63), "1e999"]
SWEPT_QUERY = ["a%00b", "9" * 5000, str(2**63)]
FieldPath = tuple[str, ...]


def _field_paths(fuzz: Fuzz, schema: Schema, prefix: FieldPath = ()) -> list[FieldPath]:
    """Every field under ``schema`` (``"[]"`` steps into an array's items), outer ones first."""
    schema = fuzz.resolve(schema)
    if schema.get("type") == "array" and len(prefix) < 8:
        return _field_paths(fuzz, schema.get("items", {}), (*prefix, "[]"))
    paths: list[FieldPath] = []
    for key, child in schema.get("properties", {}).items():
        paths += [(*prefix, key), *_field_paths(fuzz, child, (*prefix, key))]
    return paths


def _minimal(fuzz: Fuzz, schema: Schema, name: str) -> str:
    """A valid value of ``schema``: required members only, one item per array."""
    schema = fuzz.resolve(schema)
    if schema.get("type") == "object" or "properties" in schema:
        return _members(fuzz, schema, {})
    if schema.get("type") == "array":
        return "[" + _minimal(fuzz, schema.get("items", {}), name) + "]"
    return fuzz.valid_json(schema, name)


def _members(fuzz: Fuzz, schema: Schema, chosen: dict[str, str]) -> str:
    properties: dict[str, Schema] = schema.get("properties", {})
    members = {key: _minimal(fuzz, properties[key], key) for key in schema.get("required", ())}
    members.update(chosen)
    return "{" + ", ".join(f"{json.dumps(key)}: {value}" for key, value in members.items()) + "}"


def _with(fuzz: Fuzz, schema: Schema, target: FieldPath, hostile: str) -> str:
    """A valid body of ``schema`` whose field at ``target`` is ``hostile``."""
    schema = fuzz.resolve(schema)
    if not target:
        return hostile
    head, rest = target[0], target[1:]
    if head == "[]":
        return "[" + _with(fuzz, schema.get("items", {}), rest, hostile) + "]"
    inner = _with(fuzz, schema["properties"][head], rest, hostile)
    return _members(fuzz, schema, {head: inner})


def _refused(response: Any, field: str, too_deep: bool) -> str | None:
    """Why ``response`` is not the refusal of a hostile ``field`` (400 for nesting), or None."""
    status = 400 if too_deep else 422
    if response.status_code != status or response.content_type != "application/problem+json":
        return f"{response.status_code}: {response.get_data(True)[:300]}"
    if too_deep:
        return None
    named = [error.get("field") for error in response.json.get("errors", [])]
    return None if field in named else f"422 naming {named}, not {field}"


@dataclass(frozen=True)
class Swept:
    """One request of the sweep: ``field`` alone holds a hostile value."""

    field: str
    query: str
    body: str
    shown: str  # the start of the hostile value, for the report
    too_deep: bool = False


def _sweep(fuzz: Fuzz, parameters: list[Schema], body_schema: Schema | None) -> list[Swept]:
    """Each body field and query parameter of an operation alone set to each hostile kind."""
    swept = []
    for target in _field_paths(fuzz, body_schema) if body_schema is not None else []:
        field = ".".join("0" if step == "[]" else step for step in target)
        for hostile in SWEPT_JSON:
            swept.append(Swept(field, "", _with(fuzz, body_schema, target, hostile), hostile[:20]))
        too_deep = _with(fuzz, body_schema, target, _deep(5000))
        swept.append(Swept(field, "", too_deep, "[[[...", too_deep=True))
    valid_body = _minimal(fuzz, body_schema, "") if body_schema is not None else ""
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        name = parameter["name"]
        integer = parameter.get("schema", {}).get("type") == "integer"
        for hostile in SWEPT_QUERY if integer else SWEPT_QUERY[:1]:
            swept.append(Swept(name, f"{name}={hostile}", valid_body, hostile[:20]))
    return swept


def test_each_field_alone_hostile_is_refused_naming_it(
    client: FlaskClient, targets: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, ids = targets
    spec = client.get(f"{PREFIX}/openapi.json").json
    fuzz = Fuzz(spec, ids)
    wrong: dict[str, str] = {}
    fields: set[str] = set()
    sent = 0
    for template, methods in spec["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {template}"
            if method == "parameters" or label in SKIPPED:
                continue
            parameters = [*methods.get("parameters", []), *operation.get("parameters", [])]
            path = fuzz.path(lambda _strategy: "slug", template, parameters)
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            for swept in _sweep(fuzz, parameters, body_schema):
                response = client.open(
                    f"{path}?{swept.query}" if swept.query else path,
                    method=method.upper(),
                    data=swept.body,
                    content_type="application/json",
                    headers=headers,
                )
                sent += 1
                fields.add(f"{label} {swept.field}")
                problem = _refused(response, swept.field, swept.too_deep)
                if problem is not None:
                    wrong[f"{label} {swept.field}={swept.shown!r}"] = problem
    print(f"\n{sent} sweep requests over {len(fields)} body and query fields")
    assert len(fields) >= 60
    assert not wrong, "\n".join(f"{key}: {why}" for key, why in wrong.items())

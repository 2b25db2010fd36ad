"""The OpenAPI document the app serves is valid OpenAPI (openapi-spec-validator)."""

from __future__ import annotations

from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV30SpecValidator


def test_served_document_passes_the_validator(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.0.")
    # Every problem at once, not only the first: a failure lists what to fix.
    problems = [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message[:300]}"
        for error in OpenAPIV30SpecValidator(spec).iter_errors()
    ]
    assert problems == []


def test_cue_answer_documents_the_json_model_and_each_file_type(client: FlaskClient) -> None:
    # The response the validator first refused: no description, JSON answer undocumented.
    spec = client.get("/api/v1/openapi.json").json
    ok = spec["paths"]["/api/v1/cue/{cue_id}"]["get"]["responses"]["200"]
    assert ok["description"]
    content = ok["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/CueFile"}
    assert {"application/x-cue", "text/vtt", "application/xml"} <= set(content)
    formats = client.get("/api/v1/cue/formats").json["formats"]
    assert {found["media_type"] for found in formats} <= set(content)


def test_every_documented_error_is_a_problem_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    named = spec["components"]["responses"]
    bare = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # shared by the path's operations, not an operation
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) < 400:
                    continue
                if "$ref" in response:
                    response = named[response["$ref"].rsplit("/", 1)[1]]
                if "application/problem+json" not in response.get("content", {}):
                    bare.append(f"{method.upper()} {path} {status}")
    assert bare == []

"""Query-string arguments are parsed once per distinct query string; errors every time."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from werkzeug.exceptions import UnprocessableEntity

from api import query_args
from api.query_args import QueryStringParser


class CountingArgs(ma.Schema):
    """Paging that counts how often it loads."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100))
    query = ma.fields.String()

    loads = 0

    @ma.pre_load
    def _count(self, data: Any, **_kwargs: Any) -> Any:
        CountingArgs.loads += 1
        return data


@pytest.fixture
def parse() -> Any:
    app = Flask(__name__)
    parser = QueryStringParser()
    schema = CountingArgs()
    CountingArgs.loads = 0

    def parse(query_string: str, location: str = "query") -> Any:
        with app.test_request_context(f"/?{query_string}"):
            return parser.parse(schema, location=location)

    parse.parser = parser  # type: ignore[attr-defined]
    return parse


def test_a_query_string_is_loaded_once_and_each_caller_gets_a_copy(parse: Any) -> None:
    first = parse("page=2&query=cox")
    first["page"] = 99  # a view changing its arguments changes nothing for the next
    assert parse("page=2&query=cox") == {"page": 2, "query": "cox"}
    assert CountingArgs.loads == 1
    assert parse("page=3&query=cox") == {"page": 3, "query": "cox"}
    assert CountingArgs.loads == 2


def test_invalid_query_strings_fail_every_time(parse: Any) -> None:
    for _ in range(2):
        with pytest.raises(UnprocessableEntity) as error:
            parse("page=0")
        assert "page" in error.value.data["messages"]["query"]  # type: ignore[attr-defined]
    assert CountingArgs.loads == 2


def test_long_query_strings_and_other_locations_are_parsed_each_time(parse: Any) -> None:
    long = "query=" + "x" * query_args.MAX_QUERY_STRING
    assert parse(long)["query"] == "x" * query_args.MAX_QUERY_STRING
    parse(long)
    parse("page=2", location="headers")
    parse("page=2", location="headers")
    assert CountingArgs.loads == 4


def test_the_memory_is_bounded(parse: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_args, "MAX_ENTRIES", 3)
    for page in range(1, 8):
        assert parse(f"page={page}") == {"page": page}
    assert len(parse.parser._parsed) <= 3


def test_field_dicts_are_parsed_without_memory(parse: Any) -> None:
    # A dict of fields cannot be a key (and webargs builds a new schema from it each time).
    app = Flask(__name__)
    with app.test_request_context("/?page=4"):
        fields = {"page": ma.fields.Integer()}
        assert parse.parser.parse(fields, location="query") == {"page": 4}
        assert parse.parser.parse(fields, location="query") == {"page": 4}
    assert parse.parser._parsed == {}

"""Hostile input stops before the view: no request body, query string or path can cause a 500.

Values PostgreSQL, Redis or Python itself refuse are turned away here, naming the field:

* JSON nested deeper than :data:`MAX_JSON_DEPTH` answers 400 (Python's decoder would raise
  ``RecursionError`` at about a thousand levels, and every walk of the value after it too);
* text holding a NUL character (PostgreSQL stores none) or a lone surrogate (``"\\ud800"``
  is valid JSON but no Unicode text: it cannot be encoded for the database, a file name or
  a log line) answers 422;
* integers beyond :data:`MAX_INTEGER` (PostgreSQL's ``bigint``; Python refuses to convert
  more than 4,300 digits at all) and non-finite numbers (``1e999``, ``NaN``) answer 422.

:class:`GuardedParser` is the Blueprint's argument parser (:mod:`api.openapi`): JSON bodies
are decoded by :meth:`~GuardedParser._raw_load_json` and walked, and query strings checked,
in webargs' ``pre_load`` hook, before the schema loads them. Query strings are checked only
when :class:`~api.query_args.QueryStringParser` parses them, once per distinct string; a
refused one is never kept. Views that take no JSON body never read it, so the cached reads
pay nothing for bodies; :func:`init_app` checks text path parameters (slugs).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any, Final

import marshmallow as ma
from flask import Flask, request
from webargs.core import missing
from webargs.flaskparser import is_json_request
from werkzeug.datastructures import MultiDict

from api.errors import ApiProblem
from api.query_args import QueryStringParser

# Deeper than any body of ours (an edit is four levels deep), far below the decoder's limit.
MAX_JSON_DEPTH: Final = 64
# PostgreSQL's bigint holds up to 2**63 - 1: no id, version, position or time is larger.
MAX_INTEGER: Final = 2**63
# parse_int converts digit runs up to this length; longer ones are too large unconverted.
_MAX_INTEGER_DIGITS: Final = len(str(MAX_INTEGER)) + 1  # room for a minus sign
# NUL, and the UTF-16 surrogate halves a Python str may hold but UTF-8 cannot encode.
_FORBIDDEN_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_INTEGER_TEXT = re.compile(r"\s*[+-]?0*([0-9]+)\s*")
_QUERY_LOCATIONS = frozenset({"query", "querystring"})

NUL_MESSAGE: Final = "contains a NUL character"
SURROGATE_MESSAGE: Final = "contains a lone surrogate: not Unicode text"
TOO_LARGE_MESSAGE: Final = f"number too large: at most {MAX_INTEGER - 1} in size"
NOT_FINITE_MESSAGE: Final = "not a finite number"


class _TooLarge:
    """What the decoder makes of an integer with more digits than any we accept."""


class _NotFinite:
    """What the decoder makes of ``NaN``, ``Infinity`` and ``-Infinity``."""


_TOO_LARGE = _TooLarge()
_NOT_FINITE = _NotFinite()


def decode_json(data: bytes) -> Any:
    """Decode a JSON body; huge integers and non-finite constants become markers.

    Raises :class:`json.JSONDecodeError` (webargs answers 400) on malformed JSON and
    :class:`~api.errors.ApiProblem` (400) when the decoder runs out of stack.
    """
    try:
        return json.loads(
            data.decode("utf-8"), parse_int=_parse_int, parse_constant=_parse_constant
        )
    except UnicodeDecodeError as exc:
        # The document must not be empty: webargs reads an empty one as "no body".
        text = data.decode("utf-8", errors="replace")
        raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", text, exc.start) from exc
    except RecursionError:
        raise _too_deep("json") from None


def check_json(value: Any) -> None:
    """Refuse ``value`` (a decoded body) when any part of it is hostile, naming the first.

    Raises :class:`~api.errors.ApiProblem` (400) when it nests deeper than
    :data:`MAX_JSON_DEPTH`, :class:`marshmallow.ValidationError` (422) for a bad value.
    """
    for path, depth, item in _walk(value):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(path or "json")
        message = _value_problem(item)
        if message is not None:
            raise ma.ValidationError({path or "json": [message]})


def check_query(args: MultiDict[str, str], schema: ma.Schema) -> None:
    """Refuse query arguments with forbidden characters, or integer fields out of range."""
    integer_names = {
        field.data_key or name
        for name, field in schema.fields.items()
        if isinstance(field, ma.fields.Integer)
    }
    for key, value in args.items(multi=True):
        message = text_problem(key) or text_problem(value)
        if message is None and key in integer_names and _integer_text_too_large(value):
            message = TOO_LARGE_MESSAGE
        if message is not None:
            raise ma.ValidationError({_field_name(key): [message]})


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or encoded, or ``None`` if it can."""
    found = _FORBIDDEN_CHARACTER.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


class GuardedParser(QueryStringParser):
    """The Blueprint's argument parser: JSON decoded safely, every input checked first."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        return decode_json(req.get_data(cache=True))

    def pre_load(self, location_data: Any, *, schema: ma.Schema, req: Any, location: str) -> Any:
        """Check the raw input of a location before the schema loads it."""
        if location == "json" and location_data is not missing:
            check_json(location_data)
        elif location in _QUERY_LOCATIONS:
            check_query(req.args, schema)
        return super().pre_load(location_data, schema=schema, req=req, location=location)


def init_app(app: Flask) -> None:
    """Refuse text path parameters (``/search/dj/<dj_slug>``) with forbidden characters."""

    @app.before_request
    def check_path_parameters() -> None:
        for name, value in (request.view_args or {}).items():
            if type(value) is str:  # UUIDs and ints are converted and safe: the usual case
                message = text_problem(value)
                if message is not None:
                    raise ApiProblem(
                        422,
                        f"invalid value for {name}: {message}",
                        kind="validation-error",
                        errors=[{"field": name, "location": "path", "message": message}],
                    )


def _parse_int(text: str) -> int | _TooLarge:
    return int(text) if len(text) <= _MAX_INTEGER_DIGITS else _TOO_LARGE


def _parse_constant(_text: str) -> _NotFinite:
    return _NOT_FINITE


def _value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if value is _TOO_LARGE or (type(value) is int and abs(value) >= MAX_INTEGER):
        return TOO_LARGE_MESSAGE
    if value is _NOT_FINITE or (isinstance(value, float) and not math.isfinite(value)):
        return NOT_FINITE_MESSAGE
    return None


def _walk(value: Any) -> Iterator[tuple[str, int, Any]]:
    """Every key and value under ``value`` with its dotted path and nesting depth.

    Iterative, so its own depth costs no stack; it stops where the caller stops.
    """
    stack: list[tuple[str, int, Any]] = [("", 0, value)]
    while stack:
        path, depth, item = stack.pop()
        if isinstance(item, dict):
            depth += 1
            yield path, depth, None
            children = []
            for key, child in item.items():
                child_path = f"{path}.{_field_name(key)}" if path else _field_name(key)
                yield child_path, depth, key  # a key is checked as text too
                children.append((child_path, depth, child))
            stack += reversed(children)  # popped in document order
        elif isinstance(item, list):
            depth += 1
            yield path, depth, None
            stack += reversed(
                [
                    (f"{path}.{index}" if path else str(index), depth, child)
                    for index, child in enumerate(item)
                ]
            )
        else:
            yield path, depth, item


def _integer_text_too_large(text: str) -> bool:
    match = _INTEGER_TEXT.fullmatch(text)
    if match is None:
        return False  # not an integer at all: the schema says so
    digits = match.group(1)
    return len(digits) >= _MAX_INTEGER_DIGITS or int(digits) >= MAX_INTEGER


def _field_name(key: str) -> str:
    """A key as a field name in a problem document: hostile characters escaped."""
    if text_problem(key) is None:
        return key
    return key.encode("unicode_escape").decode("ascii")


def _too_deep(field: str) -> ApiProblem:
    message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return ApiProblem(
        400,
        f"{message} at {field}",
        errors=[{"field": field, "location": "json", "message": message}],
    )

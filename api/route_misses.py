"""Why a path matched no route: a path parameter in the wrong form, or no such route at all.

werkzeug answers both with the same generic text. ``GET /tracklist/1`` misses
``/tracklist/<uuid:tracklist_id>`` only because ``1`` is not a UUID, and the client should be
told so. :func:`explain` matches the path again against the same routes with every converter
loosened to "any segment"; when one matches, the parameter its real converter refused is named.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

# ``<name>``, ``<uuid:name>``, ``<int(min=1, max=9):name>`` in a rule string.
_PARAMETER = re.compile(r"<(?:(?P<converter>\w+)(?P<args>\([^)]*\))?:)?(?P<name>\w+)>")
# How each of our converters is described to a client; others read "a valid <converter>".
_FORMS = {"uuid": "a UUID", "int": "a whole number in range"}
_LOOSE_KEY = "tracklists.loose_routes"


def explain(app: Flask, path: str) -> str:
    """The detail of a 404 for ``path`` that matched none of ``app``'s routes."""
    loose = app.extensions.get(_LOOSE_KEY)
    if loose is None:
        loose = app.extensions[_LOOSE_KEY] = _loose_map(app)
    try:
        rule, values = loose.bind("localhost").match(path, return_rule=True)
    except HTTPException:
        return f"no route matches {path}"
    for found in _PARAMETER.finditer(rule.endpoint):
        converter, name = found["converter"], found["name"]
        if converter and not _accepts(
            app, f"<{converter}{found['args'] or ''}:value>", values[name]
        ):
            form = _FORMS.get(converter, f"a valid {converter}")
            return f"{name} must be {form}, not {values[name]!r}"
    return f"no route matches {path}"


def _loose_map(app: Flask) -> Map:
    """The app's routes with every parameter taking any one path segment (endpoint: the rule)."""
    rules = {
        _PARAMETER.sub(r"<\g<name>>", rule.rule): rule.rule for rule in app.url_map.iter_rules()
    }
    return Map([Rule(loose, endpoint=strict) for loose, strict in rules.items()])


def _accepts(app: Flask, parameter: str, value: str) -> bool:
    """Whether werkzeug's converter (with its arguments) takes ``value`` as one segment."""
    single = Map([Rule(f"/{parameter}", endpoint="x")], converters=dict(app.url_map.converters))
    try:
        single.bind("localhost").match(f"/{value}")
    except HTTPException:
        return False
    return True

"""Query-string arguments parsed once per distinct query string, per process.

webargs loads a query string through its marshmallow schema on every request: for a cached
search that was a quarter of the request. The result depends on the schema and the query
string alone (our query schemas are plain fields and validators: no request, user or
settings in them), so :class:`QueryStringParser` keeps the arguments of the query strings
it parsed and hands out copies. Query strings that fail validation are never kept: they
raise (422) every time, as before.
"""

from __future__ import annotations

import threading
from typing import Any

import marshmallow as ma
from webargs.flaskparser import FlaskParser

# Distinct query strings kept: search pages, paging of the list endpoints.
MAX_ENTRIES = 4096
# Longer query strings are parsed every time (they would cost memory, and are rare).
MAX_QUERY_STRING = 512
_QUERY_LOCATIONS = frozenset({"query", "querystring"})


class QueryStringParser(FlaskParser):
    """webargs' Flask parser, remembering what each query string parsed to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parsed: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def parse(self, argmap: Any, req: Any = None, **options: Any) -> Any:
        """As :meth:`webargs.core.Parser.parse`; query-string arguments from memory."""
        location = options.get("location") or self.location
        if (
            location not in _QUERY_LOCATIONS
            or not isinstance(argmap, ma.Schema)
            or options.get("validate") is not None
        ):
            return super().parse(argmap, req, **options)
        request = req if req is not None else self.get_default_request()
        query_string: bytes = request.query_string
        if len(query_string) > MAX_QUERY_STRING:
            return super().parse(argmap, request, **options)
        # The schema object itself (one per decorated view) and all that shapes the result
        # (the other options only shape errors, which are not kept).
        key = (argmap, location, options.get("unknown"), query_string)
        found = self._parsed.get(key)  # a dict read is atomic: no lock on the hot path
        if found is None:
            found = super().parse(argmap, request, **options)
            with self._lock:
                if len(self._parsed) >= MAX_ENTRIES:
                    self._parsed.clear()  # simpler than LRU: it only costs parses
                self._parsed[key] = found
        return dict(found)  # the view's own copy: values are immutable scalars

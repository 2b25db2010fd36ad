"""The OpenAPI 3 description (flask-smorest): ``{prefix}/openapi.json``, docs page optional.

The docs page (``{prefix}/docs``, ``TRACKLIST_API_DOCS_ENABLED``) is flask-smorest's Swagger UI
page with Swagger UI's own files served from the flask-swagger-ui package under
``{prefix}/docs/assets/``: it works offline and behind a firewall, with no CDN.

flask-smorest documents error responses as its own JSON shape and installs its own error
handler; :class:`Api` documents them as problem+json instead and leaves error handling to
:mod:`api.errors`, so the description and the actual responses agree.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any, TypeVar, cast

import flask_smorest
from flask import Blueprint as FlaskBlueprint
from flask import Flask
from flask_smorest.utils import prepare_response

from api.errors import PROBLEM_MEDIA_TYPE, ProblemSchema
from api.input_guard import MAX_JSON_DEPTH, GuardedParser
from api.security import BEARER_SCHEME
from config.settings import Settings

# Swagger UI's distribution files (swagger-ui-bundle.js, swagger-ui.css, ...) as packaged.
SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"

F = TypeVar("F", bound=Callable[..., Any])


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with typed decorators (the library ships no annotations).

    Use it for every resource: ``bp = Blueprint("search", __name__, description=...)``.
    Query-string arguments are parsed once per distinct query string
    (:mod:`api.query_args`); hostile input is refused before any schema sees it
    (:mod:`api.input_guard`).
    """

    ARGUMENTS_PARSER = GuardedParser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register a view (see ``flask_smorest.Blueprint.route``)."""
        return cast(Callable[[F], F], super().route(rule, **options))

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[F], F]:
        """Parse and validate input with a marshmallow schema (422 names the field)."""
        return cast(Callable[[F], F], super().arguments(schema, **kwargs))

    def response(self, status_code: int, schema: Any = None, **kwargs: Any) -> Callable[[F], F]:
        """Serialize the view's return value with a schema, and document it."""
        return cast(Callable[[F], F], super().response(status_code, schema, **kwargs))

    def alt_response(self, status_code: int, **kwargs: Any) -> Callable[[F], F]:
        """Document another response of the view; an error's body is a problem document."""
        if status_code >= 400 and "response" not in kwargs and "schema" not in kwargs:
            kwargs.update(schema=ProblemSchema, content_type=PROBLEM_MEDIA_TYPE)
        return cast(Callable[[F], F], super().alt_response(status_code, **kwargs))

    def doc(self, **kwargs: Any) -> Callable[[F], F]:
        """Add to the view's OpenAPI operation."""
        return cast(Callable[[F], F], super().doc(**kwargs))


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api with problem+json error responses."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled by :func:`api.errors.init_app`, not flask-smorest."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def configure(app: Flask, config: Settings) -> None:
    """The flask-smorest settings: where the document and the docs page are served."""
    app.config.update(
        API_TITLE="Tracklist Service",
        API_VERSION=_package_version(),
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=config.api_prefix or "/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Search, tracklists and CUE sheets from 1001tracklists.com. "
                "Errors are application/problem+json (RFC 9457). "
                f"JSON bodies nest at most {MAX_JSON_DEPTH} levels (else 400); text holding "
                "NUL or a lone surrogate, integers of 2**63 or more in size and non-finite "
                "numbers are refused with 422 naming the field."
            },
        },
    )
    if config.api_docs_enabled:
        app.config.update(
            OPENAPI_SWAGGER_UI_PATH="/docs",
            OPENAPI_SWAGGER_UI_URL=f"{config.api_prefix}/docs/assets/",
        )


def swagger_ui_assets(config: Settings) -> FlaskBlueprint:
    """Swagger UI's files, served by Flask's static file view from the installed package."""
    return FlaskBlueprint(
        "swagger_ui_assets",
        __name__,
        static_folder=str(SWAGGER_UI_DIST),
        static_url_path="",
        url_prefix=f"{config.api_prefix}/docs/assets",
    )


def init_app(app: Flask, config: Settings) -> Api:
    """Create the app's Api object (one per app: it holds the app's spec) and the docs page."""
    configure(app, config)
    if config.api_docs_enabled:
        app.register_blueprint(swagger_ui_assets(config))
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    return api


def _package_version() -> str:
    try:
        return version("tracklist-service")
    except PackageNotFoundError:
        return "0.0.0"

"""The REST API: a Flask application factory.

``gunicorn "api:create_app()"`` (what ``tracklists serve`` runs) and ``flask --app api run``
both call :func:`create_app`, which reads the ``TRACKLIST_*`` settings, so every gunicorn
worker builds its own app, engine and connections after the fork.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from api import (
    admin,
    auth,
    batch,
    cache,
    conflicts,
    cue_files,
    drafts,
    errors,
    health,
    input_guard,
    metrics,
    openapi,
    plays,
    ratelimit,
    request_ids,
    search,
    security,
    tracklists,
    versions,
)
from api.application import Application
from api.extensions import SETTINGS_KEY, db, redis_store
from config.settings import Settings, load_settings
from service.search.candidates import prepare_search

__all__ = ["create_app"]


def create_app(config: Settings | None = None, **overrides: Any) -> Flask:
    """Build the API application.

    ``config`` defaults to :func:`config.settings.load_settings` (environment and ``.env``);
    ``overrides`` replace individual settings by field name, e.g.
    ``create_app(database_url="sqlite:///x.db", api_rate_limit_anonymous="5/minute")``.
    Raises :class:`config.settings.ConfigError` when the configuration cannot be served
    (production without ``TRACKLIST_JWT_SECRET``).
    """
    settings = _settings(config, overrides)
    app = Application(__name__, static_folder=None)  # a JSON API: no static files
    app.config.update(
        MAX_CONTENT_LENGTH=settings.api_max_content_length,
        DEBUG=settings.debug_mode,
    )
    app.extensions[SETTINGS_KEY] = settings
    if settings.api_trusted_proxies:
        # Only as many X-Forwarded-For hops as there are proxies we run are believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.api_trusted_proxies, x_proto=settings.api_trusted_proxies
        )

    request_ids.init_app(app)
    errors.init_app(app)
    input_guard.init_app(app)
    db.init_app(app)
    with app.app_context():
        prepare_search(db.engine)  # before anything opens a connection
    redis_store.init_app(app)
    security.init_app(app)
    metrics.init_app(app)
    cache.init_app(app)

    api = openapi.init_app(app, settings)
    prefix = settings.api_prefix
    api.register_blueprint(health.bp)
    api.register_blueprint(auth.bp, url_prefix=f"{prefix}/auth")
    api.register_blueprint(admin.bp, url_prefix=f"{prefix}/admin")
    api.register_blueprint(search.bp, url_prefix=f"{prefix}/search")
    api.register_blueprint(tracklists.bp, url_prefix=f"{prefix}/tracklist")
    for editing in (drafts, versions, conflicts):  # under /tracklist/{id}/...
        api.register_blueprint(editing.bp, url_prefix=f"{prefix}/tracklist")
    api.register_blueprint(cue_files.bp, url_prefix=f"{prefix}/cue")
    api.register_blueprint(plays.bp, url_prefix=prefix)
    api.register_blueprint(batch.bp, url_prefix=f"{prefix}/batch")

    # After the blueprints: the login view gets its own limit by endpoint.
    ratelimit.init_app(app)
    return app


def _settings(config: Settings | None, overrides: dict[str, Any]) -> Settings:
    base = config if config is not None else load_settings()
    if not overrides:
        return base
    unknown = set(overrides) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    # Re-validate, keeping which fields were set explicitly (the database choice depends on it).
    return Settings.model_validate({**base.model_dump(exclude_unset=True), **overrides})

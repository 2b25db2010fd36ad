"""``GET /health``: a cheap liveness check for load balancers and container health checks.

It touches no database or broker, so a slow dependency cannot make every worker look dead
(``GET {prefix}/admin/health`` reports on the components).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.extensions import settings
from api.openapi import Blueprint

bp = Blueprint("health", __name__, description="Liveness.")


class HealthSchema(ma.Schema):
    """The process answers requests."""

    status = ma.fields.String(required=True, metadata={"example": "ok"})
    environment = ma.fields.String(required=True)


@bp.route("/health", methods=["GET"])
@bp.response(200, HealthSchema)
def health() -> dict[str, Any]:
    """The API process is up."""
    return {"status": "ok", "environment": settings().environment}

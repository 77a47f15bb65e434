"""The OpenAPI document of ``/api/v1``, generated from the operations attached to its views.

Each view carries a ``core.api_schema.Operation`` (its models, success responses and errors);
``core.api_schema.openapi_paths`` walks the app's URL map, so the document lists exactly the
routes the app serves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from core.api_schema import openapi_paths

_LEGACY = "liaison.openapi"


def register_paths(
    app: Flask, paths: dict[str, Any], schemas: dict[str, Any] | None = None
) -> None:
    """Deprecated: hand-written path items, kept for routes not yet described by an Operation
    (``core.api_schema``); a route's Operation wins over a hand-written item."""
    legacy = app.extensions.setdefault(_LEGACY, {"paths": {}, "schemas": {}})
    legacy["paths"].update(paths)
    legacy["schemas"].update(schemas or {})


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every ``/api/v1`` route."""
    paths, schemas = openapi_paths(app)
    legacy = app.extensions.get(_LEGACY, {"paths": {}, "schemas": {}})
    for path, item in legacy["paths"].items():
        paths[path] = {**item, **paths.get(path, {})}
    schemas = {**legacy["schemas"], **schemas}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liaison API",
            "version": "1",
            "description": "Directory, search and secure relay of the Benelux anti-trafficking "
            "network. Anonymous callers see public entries; signed-in callers what their role "
            "may see. Every refusal is JSON: `error`, `status`, `detail` and, for the relay, "
            "`check` (a stable machine name of the check that failed).",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-liaison"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def init_openapi(app: Flask) -> None:
    """Serve the document at ``/api/v1/openapi.json`` (built once, on first request)."""
    cache: dict[str, Any] = {}

    def serve() -> ResponseReturnValue:
        if "document" not in cache:
            cache["document"] = openapi_document(app)
        return jsonify(cache["document"])

    app.add_url_rule("/api/v1/openapi.json", "openapi", serve)

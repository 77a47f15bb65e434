"""The OpenAPI document of ``/api/v1``, assembled from the paths each part registers."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

_KEY = "liaison.openapi"


def register_paths(
    app: Flask, paths: dict[str, Any], schemas: dict[str, Any] | None = None
) -> None:
    """Add path items (and component schemas) to the app's OpenAPI document."""
    document = app.extensions.setdefault(_KEY, {"paths": {}, "schemas": {}})
    document["paths"].update(paths)
    document["schemas"].update(schemas or {})


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every registered ``/api/v1`` path."""
    parts = app.extensions.get(_KEY, {"paths": {}, "schemas": {}})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liaison API",
            "version": "1",
            "description": "Directory, search and secure relay of the Benelux anti-trafficking "
            "network. Anonymous callers see public entries; signed-in callers what their role "
            "may see.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": dict(sorted(parts["paths"].items())),
        "components": {
            "schemas": parts["schemas"],
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-liaison"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def init_openapi(app: Flask) -> None:
    """Serve the document at ``/api/v1/openapi.json``."""

    def serve() -> ResponseReturnValue:
        return jsonify(openapi_document(app))

    app.add_url_rule("/api/v1/openapi.json", "openapi", serve)

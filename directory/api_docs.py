"""OpenAPI description of the directory's ``/api/v1`` paths (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

_LANG = {
    "name": "lang",
    "in": "query",
    "description": "Language of labels: nl, fr, de or en (default en).",
    "schema": {"type": "string", "enum": ["nl", "fr", "de", "en"]},
}
_ERROR = {
    "description": "A bad parameter (400) or an unknown organisation (404).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_LABELLED = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
}

API_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    },
    "OrganizationSummary": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "ref": {"type": "string"},
            "name": {"type": "string"},
            "country": {"type": "string"},
            "region": {"type": ["string", "null"]},
            "city": {"type": ["string", "null"]},
            "org_type": _LABELLED,
            "visibility": {"type": "string", "enum": ["public", "network", "secretariat"]},
            "url": {"type": "string"},
        },
    },
    "Organization": {
        "description": "An organisation with what the caller may see of its services, phones, "
        "location, address and contact points.",
        "allOf": [{"$ref": "#/components/schemas/OrganizationSummary"}],
        "type": "object",
        "properties": {
            "description": {"type": "object", "additionalProperties": {"type": "string"}},
            "languages": {"type": "array", "items": _LABELLED},
            "exploitation_forms": {"type": "array", "items": _LABELLED},
            "target_groups": {"type": "array", "items": _LABELLED},
            "services": {"type": "array", "items": {"type": "object"}},
            "phones": {"type": "array", "items": {"type": "object"}},
            "location": {
                "type": ["object", "null"],
                "description": "The point the caller may see: the stored one (precision "
                "`exact`) or, where the street address is not public to the caller, the centre "
                "of the organisation's town (precision `town`).",
                "properties": {
                    "lat": {"type": "number"},
                    "lon": {"type": "number"},
                    "precision": {"type": "string", "enum": ["exact", "town"]},
                },
            },
            "address": {"type": ["object", "null"]},
            "contact_points": {"type": "array", "items": {"type": "object"}},
            "is_24_7": {"type": "boolean"},
            "accepts_cross_border_referrals": {"type": "boolean"},
        },
    },
}

API_PATHS: dict[str, Any] = {
    "/organizations": {
        "get": {
            "summary": "Organisations the caller may see, a page at a time",
            "tags": ["directory"],
            "parameters": [
                {
                    "name": "country",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "ISO 3166-1 alpha-2 code, e.g. BE",
                },
                {
                    "name": "org_type",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "An org_type code of the taxonomy",
                },
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
                },
                _LANG,
            ],
            "responses": {
                "200": {
                    "description": "One page of organisations",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "organizations": {
                                        "type": "array",
                                        "items": {
                                            "$ref": "#/components/schemas/OrganizationSummary"
                                        },
                                    },
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "total": {"type": "integer"},
                                    "pages": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "400": _ERROR,
            },
        }
    },
    "/organizations/{key}": {
        "get": {
            "summary": "One organisation by id or ref",
            "tags": ["directory"],
            "parameters": [
                {
                    "name": "key",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The organisation's id (UUID) or import ref",
                },
                _LANG,
            ],
            "responses": {
                "200": {
                    "description": "The organisation",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Organization"}
                        }
                    },
                },
                "404": _ERROR,
            },
        }
    },
    "/taxonomy": {
        "get": {
            "summary": "Every vocabulary of the taxonomy, labelled in one language",
            "tags": ["directory"],
            "parameters": [_LANG],
            "responses": {
                "200": {"description": "Vocabularies with codes, labels and synonyms"},
                "400": _ERROR,
            },
        }
    },
}

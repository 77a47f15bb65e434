"""OpenAPI description of ``GET /api/v1/search``."""

from __future__ import annotations

from typing import Any

from search.query import FACET_FIELDS, MAX_PER_PAGE, SORTS


def _list_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description + " Repeat the parameter (or separate by commas) for OR.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    }


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


PARAMETERS = [
    _param(
        "q",
        {"type": "string", "maxLength": 200},
        "Free text in NL, FR, DE or EN; typos "
        "are forgiven (1 from 5 letters, 2 from 9), the last word may be a prefix, and "
        "'near <town>' in the text sorts by distance from that town.",
    ),
    *[_list_param(name, f"Taxonomy code(s) of {name.replace('_', ' ')}.") for name in FACET_FIELDS],
    _param("is_24_7", {"type": "boolean"}, "Only organisations reachable day and night."),
    _param(
        "cross_border", {"type": "boolean"}, "Only organisations accepting cross-border referrals."
    ),
    _param("near", {"type": "string"}, "A Benelux town (Liège, Luik, Antwerp, Maastricht…)."),
    _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude (with lon)."),
    _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude (with lat)."),
    _param(
        "radius_km",
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "Only organisations within this distance of near / lat+lon.",
    ),
    _param(
        "sort",
        {"type": "string", "enum": list(SORTS)},
        "relevance (default), distance (default when a place is given) or name.",
    ),
    _param("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
    _param(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
        "Hits per page.",
    ),
]

SCHEMAS: dict[str, Any] = {
    "SearchHit": {
        "type": "object",
        "required": ["id", "ref", "name", "country", "org_type", "highlights"],
        "properties": {
            "id": {"type": "string"},
            "ref": {"type": "string", "description": "The organisation's import reference."},
            "name": {"type": "string"},
            "country": {"type": "string"},
            "city": {"type": ["string", "null"]},
            "org_type": {"type": "string"},
            "is_24_7": {"type": "boolean"},
            "cross_border": {"type": "boolean"},
            "distance_km": {
                "type": ["number", "null"],
                "description": "From the point the caller may see (a confidential address's "
                "town centre); in whole kilometres for anyone but the secretariat.",
            },
            "highlights": {
                "type": "object",
                "description": "HTML-escaped text with <mark> around matches (name, description).",
                "additionalProperties": {"type": "string"},
            },
            "badges": {
                "type": "array",
                "items": {"type": "string", "enum": ["24_7", "cross_border"]},
            },
        },
    },
    "SearchPage": {
        "type": "object",
        "required": ["hits", "facets", "total", "took_ms"],
        "properties": {
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {
                "type": "object",
                "description": "Per facet, the number of matches with each value.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                },
            },
            "total": {"type": "integer"},
            "took_ms": {"type": "number"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "backend": {"type": "string", "enum": ["embedded", "meilisearch"]},
        },
    },
}

PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "summary": "Search the directory",
            "description": "Anonymous callers find public entries only; members also network "
            "entries; the secretariat everything, unpublished entries included. Facet counts "
            "and totals follow the same rule.",
            "parameters": PARAMETERS,
            "responses": {
                "200": {
                    "description": "One page of results.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SearchPage"}}
                    },
                },
                "400": {"description": "A parameter is invalid; `detail` says which and why."},
            },
        }
    },
}

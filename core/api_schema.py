"""One source for each ``/api/v1`` schema: pydantic models that parse requests and describe them.

Each API view carries an :class:`Operation` (attached with :func:`api_operation`): its summary,
request body and query models, success responses and every error it can answer, each error
status with the ``check`` names that may come with it. :func:`openapi_document` walks the app's
URL map and builds ``/api/v1/openapi.json`` from those operations, so the document lists exactly
the routes that exist, and the models that views parse with (:func:`parse_body`) are the ones
the document shows.

Bodies with a byte-exact wire format (the envelope, key publications, the key backup) keep their
strict parsers; their models describe them for clients and generators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel, ConfigDict, ValidationError

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)

ATTRIBUTE = "__api_operation__"
REF = "#/components/schemas/{model}"
# What the input guard (core.input_guard) lets through in paths, queries and JSON strings: no C0
# control character and no DEL (a body may hold tab, line feed and carriage return).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
BODY_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# Who may call: "required" (session cookie or bearer token, else 401), "session" (a signed-in
# browser session only: a bearer token is 401), "optional" (anonymous callers see less) or "none"
# (no credentials are read).
SIGNED_IN: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
SESSION_ONLY: list[dict[str, list[str]]] = [{"session": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"session": []}, {"bearer": []}]

ERROR_DESCRIPTIONS = {
    400: "Malformed: the body or a parameter does not parse (or holds control characters)",
    401: "Not signed in: no session cookie and no valid bearer token",
    403: "Forbidden",
    404: "Not found (absent, or not yours: the two are never told apart)",
    405: "Method not allowed",
    409: "Conflict",
    413: "The body is larger than accepted",
    422: "The request parses but breaks a rule (see `check`)",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "The instance cannot serve; retry later",
    507: "The blob store is full",
}


class ApiModel(BaseModel):
    """Base of the API's request models: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every refusal of ``/api/v1``: a title, the status, what went wrong and which check."""

    error: str
    status: int
    detail: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Body:
    """A request body: a model (JSON) or a raw JSON schema with its media type."""

    model: type[BaseModel] | None = None
    schema: dict[str, Any] | None = None
    media_type: str = "application/json"
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """A success response: its model (or raw schema), media type and headers."""

    description: str
    model: type[BaseModel] | None = None
    schema: dict[str, Any] | None = None
    media_type: str | None = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says of one view."""

    summary: str
    replies: Mapping[int, Reply]
    errors: Mapping[int, Sequence[str]] = field(default_factory=dict)
    body: Body | None = None
    query: type[BaseModel] | None = None
    path: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    path_names: Mapping[str, str] = field(default_factory=dict)  # view argument → name shown
    security: str = "required"
    description: str = ""
    tags: Sequence[str] = ()
    error_descriptions: Mapping[int, str] = field(default_factory=dict)


def api_operation(**spec: Any) -> Callable[[F], F]:
    """Attach an :class:`Operation` to a view (put it below the route decorator)."""
    operation = Operation(**spec)

    def attach(view: F) -> F:
        setattr(view, ATTRIBUTE, operation)
        return view

    return attach


def describe(view: Callable[..., Any], operation: Operation) -> None:
    """Attach an :class:`Operation` to a view registered without the decorator."""
    setattr(view, ATTRIBUTE, operation)


def _validation_detail(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the body"
    return f"{where}: {first['msg']}"


def parse_body(model: type[M], document: Any, refuse: Callable[[str], Exception]) -> M:
    """``document`` (already strictly decoded JSON) as ``model``; ``refuse(detail)`` otherwise."""
    try:
        return model.model_validate(document, strict=True)
    except ValidationError as error:
        raise refuse(_validation_detail(error)) from None


# --- the document --------------------------------------------------------------------------------


def _error_schema(checks: Sequence[str]) -> dict[str, Any]:
    check: dict[str, Any] = {"type": "string", "description": "Which check failed"}
    if checks:
        check["enum"] = sorted(set(checks))
    return {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "check": check,
        },
    }


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        name = schema.get("title", model.__name__)
        self.schemas.setdefault(name, schema)
        return {"$ref": REF.format(model=name)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, found in schema.get("properties", {}).items():
        prop = dict(found)
        description = prop.pop("description", "")
        prop.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _operation_object(
    operation: Operation, params: list[str], components: _Components
) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": operation.summary}
    if operation.description:
        out["description"] = operation.description
    if operation.tags:
        out["tags"] = list(operation.tags)
    out["security"] = {
        "required": SIGNED_IN,
        "session": SESSION_ONLY,
        "optional": OPTIONAL,
        "none": [],
    }[operation.security]
    parameters = [
        {
            "name": operation.path_names.get(name, name),
            "in": "path",
            "required": True,
            "schema": operation.path.get(name, {"type": "string"}),
        }
        for name in params
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    if parameters:
        out["parameters"] = parameters
    if operation.body is not None:
        body = operation.body
        schema = components.ref(body.model, "validation") if body.model is not None else body.schema
        out["requestBody"] = {
            "required": body.required,
            "content": {body.media_type: {"schema": schema or {}}},
        }
        if body.description:
            out["requestBody"]["description"] = body.description
    out["responses"] = _responses(operation, bool(parameters), components)
    return out


def _responses(
    operation: Operation, has_parameters: bool, components: _Components
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, reply in sorted(operation.replies.items()):
        entry: dict[str, Any] = {"description": reply.description}
        if reply.media_type is not None:
            schema = (
                components.ref(reply.model, "serialization")
                if reply.model is not None
                else reply.schema
            )
            entry["content"] = {reply.media_type: {"schema": schema or {}}}
        if reply.headers:
            entry["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in reply.headers.items()
            }
        responses[str(status)] = entry
    errors = dict(operation.errors)
    if has_parameters or operation.body is not None:
        # The input guard refuses control characters in any path, query or JSON string.
        errors.setdefault(400, [])
    if operation.security in ("required", "session"):
        errors.setdefault(401, ["not-signed-in"])
    for status, checks in sorted(errors.items()):
        entry = {
            "description": operation.error_descriptions.get(
                status, ERROR_DESCRIPTIONS.get(status, "Refused")
            ),
            "content": {"application/json": {"schema": _error_schema(checks)}},
        }
        if status == 429:
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the next attempt may succeed",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            }
        responses[str(status)] = entry
    responses.setdefault("503", OUTAGE)
    return responses


# core.outage: while the database is unreachable every route answers this (nothing was stored).
OUTAGE: dict[str, Any] = {
    "description": "The database cannot be reached: send the same request again after "
    "`Retry-After` seconds (nothing was stored)",
    "headers": {
        "Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    },
    "content": {
        "application/problem+json": {
            "schema": {
                "allOf": [
                    {"$ref": REF.format(model="ErrorBody")},
                    {"properties": {"check": {"const": "database-unavailable"}}},
                ]
            }
        }
    },
}


def _openapi_path(rule: str) -> tuple[str, list[str]]:
    """``/api/v1/messages/<envelope_id>`` → ``/messages/{envelope_id}`` and its parameters."""
    path = rule.removeprefix("/api/v1")
    params: list[str] = []
    parts = []
    for segment in path.split("/"):
        if segment.startswith("<") and segment.endswith(">"):
            name = segment[1:-1].split(":")[-1]
            params.append(name)
            parts.append("{" + name + "}")
        else:
            parts.append(segment)
    return "/".join(parts), params


def api_operations(app: Flask) -> list[tuple[str, str, Operation | None]]:
    """Every ``/api/v1`` route of the app: (path, method, its operation or None)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, ATTRIBUTE, None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method.lower(), operation))
    return found


def openapi_paths(app: Flask) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``paths`` and component schemas of every described ``/api/v1`` route."""
    components = _Components()
    components.ref(ErrorBody, "serialization")
    paths: dict[str, Any] = {}
    for rule, method, operation in api_operations(app):
        if operation is None:
            continue
        path, params = _openapi_path(rule)
        for name, shown in operation.path_names.items():
            path = path.replace("{" + name + "}", "{" + shown + "}")
        paths.setdefault(path, {})[method] = _operation_object(operation, params, components)
    return paths, components.schemas

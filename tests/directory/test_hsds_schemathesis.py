"""schemathesis, driven by the official HSDS 3.1 OpenAPI, against ``/hsds/`` on the demo directory.

The spec's remote ``$ref``s (raw.githubusercontent.com) are replaced by the compiled schemas in
``../shared/hsds-3.1`` so the test runs offline. Checks: no server error, and every 200 answer
matches the spec's response schema and content type. The spec documents only 200 answers, so the
status-code check is left out: Liaison answers 400 for values it cannot honour and 404 for unknown
ids, a deviation listed in the conformance table of ``docs/directory-formats.md``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from accounts.models import Role
from accounts.sessions import cookie_name
from directory.importing import import_directory
from tests.directory.samples import DEMO, HSDS, own_session

REMOTE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


def _local(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((HSDS / f"{name}.json").read_text(encoding="utf-8"))
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return schema


def _nested_taxonomy_term() -> dict[str, Any]:
    organization = _local("organization")
    term = organization["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
    return copy.deepcopy(term)


def official_openapi() -> dict[str, Any]:
    """The official HSDS 3.1 OpenAPI with its remote schemas inlined from the shared copies."""
    raw: dict[str, Any] = json.loads((HSDS / "openapi.json").read_text(encoding="utf-8"))
    term = _nested_taxonomy_term()
    replacements = {
        f"{REMOTE}compiled/{name}.json": _local(name)
        for name in (
            "organization",
            "organization_list",
            "service",
            "service_list",
            "service_at_location_list",
        )
    }
    replacements[f"{REMOTE}taxonomy_term.json"] = term
    replacements[f"{REMOTE}taxonomy.json"] = copy.deepcopy(term["properties"]["taxonomy_detail"])

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in replacements:
                return copy.deepcopy(replacements[ref])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(raw)
    unresolved = [ref for ref in json.dumps(inlined).split('"') if ref.startswith("https://raw.")]
    assert unresolved == [], f"remote references left: {unresolved}"
    # The spec's paths are relative to the API root; Liaison serves them under /hsds.
    inlined["servers"] = [{"url": "/hsds"}]
    return inlined


OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in json.loads((HSDS / "openapi.json").read_text(encoding="utf-8"))[
        "paths"
    ].items()
    for method in item
    if method in ("get", "post")
]


@pytest.fixture
def demo_app(app, settings):
    for session in own_session(settings):
        import_directory(session, DEMO.read_bytes())
        session.commit()
    app.extensions["liaison.search"].reindex()
    return app


@pytest.mark.parametrize("label", OPERATIONS)
@pytest.mark.parametrize("caller", ["anonymous", "secretariat"])
def test_the_official_hsds_openapi_finds_no_failure(demo_app, label, caller, make_user, sign_in):
    headers = {}
    if caller == "secretariat":  # sees confidential entries and exact points: the widest answers
        browser = demo_app.test_client()
        sign_in(browser, make_user(Role.SECRETARIAT))
        name = cookie_name(demo_app.extensions["liaison.settings"])
        headers["Cookie"] = f"{name}={browser.get_cookie(name).value}"
    schema = schemathesis.openapi.from_dict(official_openapi())
    schema.app = demo_app
    operation = next(
        result.ok() for result in schema.get_all_operations() if result.ok().label == label
    )

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def examples(case: Any) -> None:
        case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )

    examples()

"""schemathesis, with all its default checks, over every operation of ``/api/v1/openapi.json``.

Anonymous and with a bearer token; positive data, and negative data wherever an operation takes
parameters or a body. The document is generated from the models the views use, so
a failure here is a view answering something its operation does not describe (a status, a
content type, a header, a body) or a server error. The few checks left out for an operation,
and why, are listed in ``EXCLUDED`` and in docs/relay-api.md.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi import checks as openapi_checks

from accounts.api_tokens import issue_token
from accounts.models import Role
from config import load_settings
from core.api_schema import SIGNED_IN, api_operations
from core.app import close_app, create_app
from core.openapi import openapi_document


def _labels() -> list[tuple[str, GenerationMode]]:
    """The operations of a freshly built app (no database is touched to list them), each with
    positive data and, where it takes parameters or a body, with negative data."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'routes.db'}"
        app = create_app(
            load_settings(environ={}, env="test", data_dir=Path(tmp), database_url=url)
        )
        try:
            paths = openapi_document(app)["paths"]
        finally:
            close_app(app)
    cases = []
    for path, item in paths.items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append((label, GenerationMode.NEGATIVE))
    return sorted(cases)


CASES = _labels()

EMPTY = "an empty query value counts as absent (as an HTML form sends an empty field)"
# check name → operations it cannot hold for, with the reason (also in docs/relay-api.md).
SIGNED = "a body that fits the schema still needs a valid Ed25519 signature over it"
EXCLUDED: dict[str, dict[str, str]] = {
    "positive_data_acceptance": {
        "POST /messages": SIGNED,
        "POST /keys": SIGNED,
        "POST /keys/{key_id}/revoke": SIGNED,
        "PUT /keys/backup": "the bundle must name the caller's own user id",
        "GET /messages": "`cursor` is opaque: only a value the server gave out is accepted",
        "GET /search": "parameters depend on each other (lat with lon; near a known town)",
    },
    "negative_data_rejection": {
        label: EMPTY
        for label in ("GET /messages", "GET /threads", "GET /key-log", "GET /organizations")
    }
    | {"GET /search": EMPTY},
}


@pytest.fixture
def token(app, db_session, make_user):
    user = make_user(Role.CONTACT_POINT)
    secret, _row = issue_token(db_session, user, app.extensions["liaison.settings"], "schemathesis")
    db_session.commit()
    return secret


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{m.value}-{label}" for label, m in CASES])
@pytest.mark.parametrize("caller", ["anonymous", "bearer"])
def test_the_openapi_document_holds_under_schemathesis(app, client, token, label, mode, caller):
    document = client.get("/api/v1/openapi.json").get_json()
    excluded = [
        getattr(openapi_checks, name)
        for name, operations in EXCLUDED.items()
        if label in operations
    ]
    # The token as schemathesis's own bearer auth, so that its auth checks know it is real.
    auth = {"openapi": {"bearer": {"bearer": token}}} if caller == "bearer" else {}
    config = SchemathesisConfig.from_dict({"auth": auth})
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    operation = next(
        result.ok() for result in schema.get_all_operations() if result.ok().label == label
    )

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    def examples(case: Any) -> None:
        statuses.append(case.call_and_validate(excluded_checks=excluded).status_code)

    statuses: list[int] = []
    examples()
    session_only = document["paths"][operation.path][operation.method.lower()]["security"] == [
        {"session": []}
    ]
    if (
        caller == "bearer"
        and label != "POST /auth/token"
        and not session_only  # the unlock key: a browser session's, never a token's
        and mode == GenerationMode.POSITIVE
    ):
        assert set(statuses) - {401}, "the bearer token was never accepted"


def test_every_api_route_is_described(app):
    undescribed = [
        f"{method} {rule}" for rule, method, operation in api_operations(app) if operation is None
    ]
    assert undescribed == []


def test_every_operation_describes_its_body_its_answer_and_its_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    text = json.dumps(document)
    dangling = {ref for ref in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text)} - set(
        schemas
    )
    assert dangling == set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            statuses = set(operation["responses"])
            success = [s for s in statuses if s.startswith("2")]
            assert success, label
            for status in success:
                if status != "204":
                    assert operation["responses"][status]["content"], label
            if operation["security"] == SIGNED_IN:
                assert "401" in statuses, label
                check = operation["responses"]["401"]["content"]["application/json"]["schema"]
                assert "not-signed-in" in check["properties"]["check"]["enum"], label
            for status in statuses - {"503"}:
                if status.startswith("4"):
                    body = operation["responses"][status]["content"]["application/json"]
                    assert set(body["schema"]["required"]) == {"error", "status"}, label
    posts = document["paths"]["/messages"]["post"]
    assert posts["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MessagePost"
    }
    assert {"201", "200", "400", "401", "403", "409", "413", "422", "429"} <= set(
        posts["responses"]
    )
    assert (
        "bad-signature"
        in (
            posts["responses"]["422"]["content"]["application/json"]["schema"]["properties"][
                "check"
            ]["enum"]
        )
    )
    for label in ("/auth/token", "/keys", "/keys/backup"):
        item = document["paths"][label]
        operation = item.get("post") or item["put"]
        assert "requestBody" in operation, label


def test_a_page_size_in_other_digits_is_refused_not_a_server_error(client, token):
    answer = client.get(
        "/api/v1/threads?limit=%C2%B2", headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status_code == 400
    assert answer.get_json()["check"] == "malformed"


def test_numbers_beyond_any_column_give_an_empty_page_not_a_server_error(client, token):
    bearer = {"Authorization": f"Bearer {token}"}
    huge = "9" * 5000  # past Python's int() digit limit, and any database integer

    log = client.get(f"/api/v1/key-log?since={huge}&limit={huge}", headers=bearer)
    past = client.get("/api/v1/key-log?since=1716211365726718", headers=bearer)
    threads = client.get(f"/api/v1/threads?limit={huge}", headers=bearer)

    assert log.status_code == 200
    assert log.get_json()["entries"] == []
    assert past.status_code == 200
    assert threads.status_code == 200

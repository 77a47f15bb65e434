"""The relay's answers with real data in them (a referral through its statuses, its messages,
refusals with their checks) validate against ``/api/v1/openapi.json``: the documented status,
the documented body, and a ``check`` among the operation's documented ones."""

# ruff: noqa: F811 - the referral fixtures are imported by name

from __future__ import annotations

from typing import Any

import jsonschema

from tests.messaging.referral_fixtures import cast  # noqa: F401 - a fixture


def _documented(document: dict[str, Any], method: str, template: str, answer: Any) -> None:
    operation = document["paths"][template][method]
    status = str(answer.status_code)
    assert status in operation["responses"], f"{method} {template} answered undocumented {status}"
    content = operation["responses"][status].get("content")
    if content is None:
        assert not answer.data
        return
    schema = {**content[answer.mimetype]["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(answer.get_json())


def test_a_referral_and_its_messages_answer_as_documented(client, cast):
    document = client.get("/api/v1/openapi.json").get_json()
    referral_id = cast.send()
    intake, sender = cast.intake, cast.sender

    steps = [
        ("get", "/referrals", intake.get("/api/v1/referrals?box=incoming")),
        ("get", "/referrals", sender.get("/api/v1/referrals?box=outgoing&status=sent")),
        ("get", "/referrals/{id}", intake.get(f"/api/v1/referrals/{referral_id}")),
        ("post", "/referrals/{id}/status", cast.status(intake, referral_id, "acknowledged")),
        ("post", "/referrals/{id}/status", cast.status(intake, referral_id, "acknowledged")),
        ("post", "/referrals/{id}/status", cast.status(sender, referral_id, "accepted")),
        ("post", "/referrals/{id}/status", cast.status(cast.member, referral_id, "accepted")),
        ("post", "/referrals/{id}/status", cast.status(intake, referral_id, "redirected")),
        (
            "post",
            "/referrals/{id}/status",
            cast.status(intake, referral_id, "redirected", redirect_to=cast.c.id),
        ),
        ("get", "/referrals/{id}", cast.outsider.get(f"/api/v1/referrals/{referral_id}")),
        ("get", "/referrals", intake.get("/api/v1/referrals?box=sideways")),
        ("get", "/messages", intake.get("/api/v1/messages")),
        ("get", "/threads", intake.get("/api/v1/threads")),
    ]
    message_id = intake.get("/api/v1/messages").get_json()["messages"][0]["id"]
    steps += [
        ("get", "/messages/{id}", intake.get(f"/api/v1/messages/{message_id}")),
        ("get", "/messages/{id}", sender.get(f"/api/v1/messages/{message_id}")),
        ("post", "/messages/{id}/ack", intake.post(f"/api/v1/messages/{message_id}/ack")),
        ("post", "/messages/{id}/read", intake.post(f"/api/v1/messages/{message_id}/read")),
        ("get", "/threads/{thread_id}", intake.get(f"/api/v1/threads/{message_id}")),
        ("delete", "/messages/{id}", intake.delete(f"/api/v1/messages/{message_id}")),
        ("get", "/messages/{id}", intake.get(f"/api/v1/messages/{message_id}")),
        ("post", "/messages", sender.post("/api/v1/messages", json={"v": 2})),
        ("get", "/users/lookup", sender.get("/api/v1/users/lookup?email=nobody@example.org")),
    ]

    statuses = []
    for method, template, answer in steps:
        _documented(document, method, template, answer)
        statuses.append(answer.status_code)
    assert statuses == [
        *(200, 200, 200, 200, 409, 403, 404, 400, 200, 404, 400, 200, 200),
        *(200, 200, 200, 200, 200, 204, 404, 400, 404),
    ]

"""OpenAPI description of the relay's routes (served within /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
ERROR = {"$ref": "#/components/schemas/RelayError"}


def _op(summary: str, responses: dict[str, str], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": summary,
        "security": SECURITY,
        "responses": {
            code: {"description": text}
            | ({"content": {"application/json": {"schema": ERROR}}} if code >= "400" else {})
            for code, text in responses.items()
        },
    }
    out.update(extra)
    return out


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


NOT_FOUND = "absent, or not yours (the relay never tells the two apart)"

PATHS: dict[str, Any] = {
    "/keys": {
        "post": _op(
            "Publish a new identity key (key_id, sign_pk, box_pk, created_at, pub_sig)",
            {"201": "published", "200": "already current", "422": "bad pub_sig or key id"},
        )
    },
    "/keys/me": {
        "get": _op(
            "Who you are, your current key and the version of your stored backup",
            {"200": "you"},
        )
    },
    "/keys/{key_id}/revoke": {
        "post": _op(
            "Revoke one of your keys with its own signature (at, sig)",
            {"200": "revoked", "404": NOT_FOUND, "422": "bad signature"},
            parameters=[_id("key_id")],
        )
    },
    "/keys/backup": {
        "get": _op("Your encrypted key backup (spec §5)", {"200": "bundle", "404": "none"}),
        "put": _op(
            "Store a higher version of your encrypted key backup",
            {"201": "stored", "200": "unchanged", "409": "lower or equal version (rollback)"},
        ),
    },
    "/session/unlock-key": {
        "post": _op(
            "A new per-session unlock key (browser session cookie only; replaces the previous one)",
            {"201": "{key}", "401": "no signed-in browser session (bearer tokens are refused)"},
            security=[{"session": []}],
        ),
        "delete": _op(
            "Lock: forget this session's unlock key",
            {"204": "forgotten", "401": "no signed-in browser session"},
            security=[{"session": []}],
        ),
    },
    "/session/unlock-key/current": {
        "post": _op(
            "This session's unlock key (browser session cookie only)",
            {"200": "{key}", "401": "no signed-in browser session", "404": "locked or never made"},
            security=[{"session": []}],
        ),
    },
    "/users/{user_id}/keys": {
        "get": _op(
            "A person's current key (fingerprint, attestation) and older keys",
            {"200": "keys", "404": "no such person", "429": "too many look-ups"},
            parameters=[_id("user_id")],
        )
    },
    "/users/lookup": {
        "get": _op(
            "Find a person by exact e-mail address, with their keys",
            {"200": "keys", "404": "no such person", "429": "too many look-ups"},
            parameters=[_query("email")],
        )
    },
    "/organizations/{organization_id}/recipients": {
        "get": _op(
            "An organisation's current contact points with their keys (to address it)",
            {"200": "recipients", "404": "no such organisation", "429": "too many look-ups"},
            parameters=[_id("organization_id")],
        )
    },
    "/key-log": {
        "get": _op(
            "Key-log entries after seq `since`, each with its signed head (spec §6)",
            {"200": "entries and the latest signed head"},
            parameters=[_query("since", "integer"), _query("limit", "integer")],
        )
    },
    "/key-log/head": {"get": _op("The latest signed head and the log key", {"200": "head"})},
    "/messages": {
        "post": _op(
            "Post an envelope (spec §3), or {envelope, blobs: [ids], referral: {urgency, "
            "from_org}}; an envelope of kind referral must carry the referral object",
            {
                "201": "stored",
                "200": "the same id with the same bytes was already stored",
                "400": "malformed",
                "403": "the header names another sender",
                "409": "the id is used by other bytes",
                "413": "too large",
                "422": "a check failed (recipients, wraps, keys, signature, expiry)",
                "429": "too many messages",
            },
        ),
        "get": _op(
            "Your inbox (or box=sent), newest first, with cursor paging",
            {"200": "a page of messages and the next cursor"},
            parameters=[
                _query("box"),
                _query("cursor"),
                _query("limit", "integer"),
                _query("unacknowledged"),
            ],
        ),
    },
    "/messages/{id}": {
        "get": _op(
            "One of your messages", {"200": "message", "404": NOT_FOUND}, parameters=[_id("id")]
        ),
        "delete": _op(
            "Delete your own copy", {"204": "deleted", "404": NOT_FOUND}, parameters=[_id("id")]
        ),
    },
    "/messages/{id}/ack": {
        "post": _op(
            "Acknowledge (your client has it)",
            {"200": "ok", "404": NOT_FOUND},
            parameters=[_id("id")],
        )
    },
    "/messages/{id}/read": {
        "post": _op(
            "Mark as read (its sender sees it)",
            {"200": "ok", "404": NOT_FOUND},
            parameters=[_id("id")],
        )
    },
    "/threads": {"get": _op("Your threads, latest first", {"200": "threads"})},
    "/threads/{thread_id}": {
        "get": _op(
            "Your messages of one thread, oldest first",
            {"200": "messages", "404": NOT_FOUND},
            parameters=[_id("thread_id")],
        )
    },
    "/blobs": {
        "post": _op(
            "Upload an encrypted attachment (raw body, streamed; ?id=<uuid> it was sealed with)",
            {"201": "stored", "409": "id used", "413": "larger than the limit"},
            parameters=[_query("id")],
        )
    },
    "/blobs/{id}": {
        "get": _op(
            "Download an attachment (uploader, sender and recipients of a message naming it)",
            {"200": "the blob's bytes", "404": NOT_FOUND},
            parameters=[_id("id")],
        )
    },
    "/referrals": {
        "get": _op(
            "Your referrals: box=incoming (to organisations you are a contact point of) or "
            "box=outgoing (sent by you or your organisation), optionally one status",
            {"200": "referrals (metadata only)", "400": "unknown box or status"},
            parameters=[_query("box"), _query("status")],
        )
    },
    "/referrals/{id}": {
        "get": _op(
            "One referral with its status history (events)",
            {"200": "referral", "404": NOT_FOUND},
            parameters=[_id("id")],
        )
    },
    "/referrals/{id}/status": {
        "post": _op(
            "Change a referral's status: {status, redirect_to (org id, with redirected)}; "
            "sent → acknowledged → accepted | declined | redirected → closed",
            {
                "200": "the updated referral with its history",
                "400": "unknown status, or redirect_to missing or misplaced",
                "403": "not a contact point of the receiving organisation (the sender may close)",
                "404": NOT_FOUND,
                "409": "the current status does not allow this change",
                "422": "redirect_to is not another organisation",
            },
            parameters=[_id("id")],
        )
    },
    "/auth/token": {
        "post": {
            "summary": "Exchange e-mail, password and TOTP code for a bearer token",
            "responses": {"200": {"description": "token and expiry"}, "401": {"description": "no"}},
        },
        "delete": _op("Revoke the bearer token used for this request", {"204": "revoked"}),
    },
}

SCHEMAS: dict[str, Any] = {
    "RelayError": {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "check": {"type": "string", "description": "which check failed, e.g. bad-signature"},
        },
    }
}

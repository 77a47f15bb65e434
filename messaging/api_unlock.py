"""The per-session unlock key: what lets the browser stay unlocked across page loads and tabs.

The browser keeps its unlocked private keys in local storage only encrypted under this key; the
key lives on the server in the session's row and is handed only to that signed-in browser session
(the session cookie, never a bearer token; writes need the CSRF token like every POST). It is
replaced at each unlock and forgotten by "Lock", sign-out and session expiry
(``accounts/sessions.py``). It is never logged. See docs/security.md, "Unlocked keys".
"""

from __future__ import annotations

from flask import Response, jsonify, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounts.sessions import current_unlock_key, forget_unlock_key, new_unlock_key
from core.api_schema import Reply, api_operation
from core.web import db_session
from messaging import api_models as m
from messaging.api_common import Unauthenticated, blueprint
from messaging.envelopes import b64encode
from messaging.errors import NotFound


def _session_id() -> str:
    """The signed-in browser session's row id; 401 for anything else (bearer tokens included)."""
    row_id = getattr(session, "row_id", None)
    if (
        request.authorization is not None
        or not current_user.is_authenticated
        or not session.get("_user_id")
        or not row_id
    ):
        raise Unauthenticated("only a signed-in browser session has an unlock key")
    return str(row_id)


def _key_response(key: bytes, status: int) -> ResponseReturnValue:
    response: Response = jsonify({"key": b64encode(key)})
    response.headers["Cache-Control"] = "no-store"
    return response, status


SESSION_ONLY = (
    "Only a signed-in browser session (its cookie and CSRF token): a bearer token is 401."
)


@blueprint.post("/session/unlock-key")
@api_operation(
    summary="A new per-session unlock key, replacing the previous one",
    description=SESSION_ONLY,
    security="session",
    replies={201: Reply("the new key", m.UnlockKey)},
)
def create_unlock_key() -> ResponseReturnValue:
    """A new unlock key for this session (at each unlock), replacing the previous one."""
    row_id = _session_id()
    db = db_session()
    key = new_unlock_key(db, row_id)
    db.commit()
    if key is None:
        raise Unauthenticated("this session has ended")
    return _key_response(key, 201)


@blueprint.post("/session/unlock-key/current")
@api_operation(
    summary="This session's unlock key",
    description=SESSION_ONLY,
    security="session",
    replies={200: Reply("the key", m.UnlockKey)},
    errors={404: ["not-found"]},
)
def read_unlock_key() -> ResponseReturnValue:
    """This session's unlock key; 404 once it was forgotten (locked) or never made."""
    key = current_unlock_key(db_session(), _session_id())
    if key is None:
        raise NotFound("this session holds no unlock key: unlock again")
    return _key_response(key, 200)


@blueprint.delete("/session/unlock-key")
@api_operation(
    summary="Lock: forget this session's unlock key",
    description=SESSION_ONLY,
    security="session",
    replies={204: Reply("forgotten", media_type=None)},
)
def delete_unlock_key() -> ResponseReturnValue:
    """Lock: forget this session's unlock key."""
    row_id = _session_id()
    db = db_session()
    forget_unlock_key(db, row_id)
    db.commit()
    return "", 204

"""What every relay API route shares: the blueprint, the caller, JSON bodies, errors, limits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, session
from flask_login import current_user

import core.metrics
from accounts.models import User
from config import Settings
from core.db import Database
from core.ratelimit import Counted
from core.web import ERROR_TITLES, db_session
from messaging.envelopes import loads_strict
from messaging.errors import Malformed, RelayError, TooLarge
from messaging.ratelimit import RateLimiter

blueprint = Blueprint("api_messaging", __name__, url_prefix="/api/v1")

LIMITERS = "liaison.messaging.limiters"


class Unauthenticated(RelayError):
    """No signed-in session and no valid bearer token."""

    status = 401
    check = "not-signed-in"


def caller() -> User:
    """The signed-in person (session cookie or bearer token); 401 otherwise."""
    if not current_user.is_authenticated:
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    if request.authorization is not None and session.get("_user_id"):
        # A bearer request skips the CSRF check, so it must not ride on a session cookie.
        raise Unauthenticated("send a session cookie or a bearer token, not both")
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def raw_body(limit: int) -> bytes:
    """The request body, at most ``limit`` bytes (413 beyond, without reading the rest)."""
    length = request.content_length
    if length is not None and length > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    if not raw:
        raise Malformed("send a JSON body")
    return raw


def json_body(limit: int) -> Any:
    """The request's JSON body, read up to ``limit`` bytes, strictly parsed."""
    return loads_strict(raw_body(limit), "the request body")


def limit(kind: str, person_id: str | None = None, *, in_transaction: bool = False) -> None:
    """Count one ``kind`` event ("send" or "lookup") for the caller (or ``person_id``, whom the
    view authenticated itself); 429 past the limit. ``in_transaction``: count it in the
    request's database session, which the view commits (the relay's post: no extra commit)."""
    limiters: dict[str, RateLimiter] = current_app.extensions[LIMITERS]
    names = {"send": "messages", "lookup": "key look-ups"}
    session = db_session() if in_transaction else None
    limiters[kind].hit(person_id or caller().id, names[kind], session)


def send_counter(person_id: str) -> Counted | None:
    """For counting one "send" of ``person_id`` in the statement that stores the envelope (the
    relay's post); None when sending is not limited. Finish with ``Counted.done``."""
    limiters: dict[str, RateLimiter] = current_app.extensions[LIMITERS]
    return limiters["send"].counter(person_id, db_session())


def init_limiters(current: Settings, database: Database | None = None) -> dict[str, RateLimiter]:
    """Fresh limiters from the settings (one set per app), counting in ``database``."""
    return {
        "send": RateLimiter(current.messages_per_minute, "send", database),
        "lookup": RateLimiter(current.key_lookups_per_minute, "lookup", database),
    }


@blueprint.errorhandler(RelayError)
def relay_error(error: RelayError) -> tuple[Response, int]:
    """Every refusal as JSON: the title, the status, what went wrong and the check's name."""
    if request.endpoint == "api_messaging.post_message":
        core.metrics.count_relay(error.check)
    body = {
        "error": ERROR_TITLES.get(error.status, "The request breaks a rule of the relay"),
        "status": error.status,
        "detail": error.detail,
        "check": error.check,
    }
    response = jsonify(body)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response, error.status


def int_arg(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole-number query parameter, clamped; 400 when it is not a number."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to str.isdigit, not to int()
        raise Malformed(f"{name} must be a whole number")
    value = max(minimum, int(raw[:19]) if len(raw) <= 19 else 10**19)  # no 4300-digit int()
    return min(value, maximum) if maximum is not None else value

"""Bearer tokens for API clients (the Python client, a case-management system).

A token is issued for e-mail + password + TOTP code, like a sign-in; only its SHA-256 is stored,
it expires, and it can be revoked. ``Authorization: Bearer <token>`` then authenticates API calls
through a Flask-Login request loader (bearer requests are exempt from CSRF: no browser sends that
header on its own).

A route on the hot path may check the token itself, inside a query it runs anyway (the relay's
``POST /api/v1/messages``): its endpoint is listed under ``BEARER_IN_VIEW`` in
``app.extensions``, the request loader then leaves the request anonymous, and the view applies
``token_usable``/``touch_token`` to the token row it read.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import Blueprint, Flask, Request, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Select, String, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, lazyload, mapped_column

from accounts.models import User
from config import Settings
from core.api_schema import BODY_TEXT_PATTERN, Body, Reply, api_operation, parse_body
from core.db import Base, UTCDateTime, id_column, new_id, utcnow
from core.security import CSRF_EXEMPT
from core.web import db_session, settings

TOKEN_PREFIX = "lia_"  # noqa: S105 - a marker that makes leaked tokens easy to spot
TOUCH_EVERY = timedelta(minutes=5)
BEARER_IN_VIEW = "liaison.bearer_in_view"  # app.extensions key: a set of endpoint names


class ApiToken(Base):
    """A bearer token of one person; ``token_hash`` is the SHA-256 of the secret."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(id_column(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        id_column(), ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def token_hash(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, settings: Settings, label: str = ""
) -> tuple[str, ApiToken]:
    """Create a token for ``user``; returns the secret (shown once) and its row."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_hash(secret),
        label=label[:100],
        expires_at=utcnow() + timedelta(hours=settings.api_token_hours),
    )
    session.add(row)
    session.flush()
    return secret, row


@cache
def _token_and_person() -> Select[User, str, datetime, datetime | None, datetime | None]:
    """Built once: the token with this hash and its person (organisations load on first use)."""
    return (
        select(User, ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == bindparam("hash"))
        .options(lazyload(User.organizations))
    )


def user_for_token(session: Session, secret: str) -> User | None:
    """The active person a valid, unexpired, unrevoked token belongs to, else None.

    One query for the token and its person. The person's organisations are not loaded with it
    (most API calls never need them); they load on first use within the request's session.
    ``last_used_at`` is written at most once per ``TOUCH_EVERY`` per token.
    """
    if not well_formed(secret):
        return None
    row = session.execute(_token_and_person(), {"hash": token_hash(secret)}).first()
    now = utcnow()
    if row is None:
        return None
    user, token_id, expires_at, revoked_at, last_used_at = row
    if not user.is_active or not token_usable(expires_at, revoked_at, now):
        return None
    touch_token(session, token_id, last_used_at, now)
    return user


def well_formed(secret: str) -> bool:
    """Whether ``secret`` has the form of a token at all (else no query is worth running)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) <= 100


def token_usable(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> bool:
    """Whether a token row found by its hash still authenticates (unexpired, unrevoked)."""
    return revoked_at is None and expires_at > now


def touch_token(
    session: Session, token_id: str, last_used_at: datetime | None, now: datetime
) -> bool:
    """Record the token's use, at most once per ``TOUCH_EVERY``, committed at once; returns
    whether it did (and so ended the session's transaction)."""
    if last_used_at is not None and now - last_used_at <= TOUCH_EVERY:
        return False
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    session.commit()
    return True


def revoke_token(session: Session, secret: str) -> bool:
    """Revoke the token with this secret; False when there was no such live token."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(secret), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_user_tokens(session: Session, user_id: str) -> int:
    """Revoke every live token of a person (on disable or password change)."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def bearer_secret(req: Request) -> str | None:
    """The token in ``Authorization: Bearer …``, if any."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ").strip() or None


def _load_from_request(req: Request) -> User | None:
    secret = bearer_secret(req)
    if secret is None or req.endpoint in current_app.extensions.get(BEARER_IN_VIEW, ()):
        return None
    return user_for_token(db_session(), secret)


def _error(status: int, detail: str) -> tuple[Response, int]:
    titles = {400: "The request could not be understood", 401: "Please sign in", 429: "Too many"}
    return jsonify({"error": titles.get(status, "Error"), "status": status, "detail": detail}), (
        status
    )


class TokenRequest(BaseModel):
    """E-mail, password and the current TOTP code, as at sign-in; ``label`` names the client."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, pattern=BODY_TEXT_PATTERN)
    password: str = Field(min_length=1, pattern=BODY_TEXT_PATTERN)
    code: str = Field(min_length=1, pattern=BODY_TEXT_PATTERN)
    label: str = Field("", pattern=BODY_TEXT_PATTERN, description="Kept to 100 characters")


class TokenUser(BaseModel):
    id: str
    email: str
    display_name: str


class IssuedToken(BaseModel):
    """The bearer token (shown once), when it expires and whose it is."""

    token: str
    expires_at: str
    user: TokenUser


class _Refused(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


blueprint = Blueprint("api_tokens", __name__)


@blueprint.post("/api/v1/auth/token")
@api_operation(
    summary="Exchange e-mail, password and TOTP code for a bearer token",
    security="none",
    body=Body(TokenRequest),
    replies={200: Reply("the token, its expiry and its person", IssuedToken)},
    errors={400: [], 401: [], 429: []},
    error_descriptions={
        400: "Not a JSON object with email, password and code",
        401: "Wrong e-mail, password or code",
        429: "Too many failed attempts for this address: paused for a while",
    },
)
def create_token() -> ResponseReturnValue:
    """Exchange e-mail + password + TOTP code for a bearer token."""
    from accounts.credentials import CredentialsError, check_credentials

    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "send a JSON object with email, password and code")
    if isinstance(payload.get("label"), str):
        payload["label"] = payload["label"][:100]
    else:
        payload.pop("label", None)
    try:
        asked = parse_body(TokenRequest, payload, _Refused)
    except _Refused as refused:
        return _error(400, "email, password and code are required: " + refused.detail)
    session = db_session()
    fields = {"email": asked.email, "password": asked.password, "code": asked.code}
    label = asked.label
    try:
        user = check_credentials(session, settings(), **fields)
    except CredentialsError as error:
        session.commit()  # keep the failure count
        response, status = _error(error.status, str(error))
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response, status
    secret, row = issue_token(session, user, settings(), label or "")
    session.commit()
    return jsonify(
        {
            "token": secret,
            "expires_at": row.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user": {"id": user.id, "email": user.email, "display_name": user.display_name},
        }
    )


@blueprint.delete("/api/v1/auth/token")
@api_operation(
    summary="Revoke the bearer token this request was made with",
    replies={204: Reply("revoked", media_type=None)},
    error_descriptions={401: "No valid bearer token"},
)
def delete_token() -> ResponseReturnValue:
    """Revoke the bearer token this request was made with."""
    secret = bearer_secret(request)
    if secret is None or not current_user.is_authenticated:
        return _error(401, "send the token to revoke as Authorization: Bearer")
    session = db_session()
    revoke_token(session, secret)
    session.commit()
    return "", 204


def init_api_tokens(app: Flask, login_manager: LoginManager) -> None:
    """Register the token routes and the bearer request loader."""
    login_manager.request_loader(_load_from_request)
    app.register_blueprint(blueprint)
    app.extensions.setdefault(CSRF_EXEMPT, set()).add("api_tokens.create_token")

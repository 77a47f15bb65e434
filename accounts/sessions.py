"""Server-side sessions: the cookie carries a random id, the data lives in ``user_session``.

Ending a row (logout, account disabled, "end this session") makes the cookie worthless at once.
Idle and absolute lifetimes come from the settings.

A session may also hold an "unlock wrapping key" (``unlock_key``): 32 random bytes under which the
browser keeps its unlocked private keys between page loads (docs/security.md, "Unlocked keys").
It is handed only to the session it belongs to and cleared whenever the session ends, so what the
browser stored is worthless after sign-out or expiry.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import update
from werkzeug.datastructures import CallbackDict

from accounts.models import UserSession
from config import Settings
from core.db import Database, utcnow

TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """The stored form of a session cookie value."""
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session dictionary of one request, backed by one ``user_session`` row."""

    def __init__(self, initial: dict[str, Any] | None = None, row_id: str | None = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.row_id = row_id
        self.modified = False
        self.rotate = False
        self.ended = False
        self.user_agent = ""

    def regenerate(self) -> None:
        """Issue a new id on the next save (after sign-in), ending the old row."""
        self.rotate = True
        self.modified = True

    def end(self) -> None:
        """End this session on the server and forget the cookie (sign-out).

        Data set after ``end()`` (e.g. the interface language) goes into a new anonymous session.
        """
        self.clear()
        self.ended = True
        self.modified = True


def cookie_name(settings: Settings) -> str:
    """``__Host-`` prefixed when cookies are Secure, as browsers require for the prefix."""
    return "__Host-liaison" if settings.secure_cookies else "liaison_session"


def ending_values(now: datetime) -> dict[str, Any]:
    """The values that end a session row: its end time, and its unlock key forgotten."""
    return {"ended_at": now, "unlock_key": None}


def live_session(db: Any, row_id: str | None) -> UserSession | None:
    """The row of a session that has not ended (a signed-in one when ``user_id`` is set)."""
    if not row_id:
        return None
    row = db.get(UserSession, row_id)
    if row is None or row.ended_at is not None:
        return None
    return row


def new_unlock_key(db: Any, row_id: str | None) -> bytes | None:
    """A fresh unlock key for this live session (replacing any earlier one); None if it ended."""
    key = secrets.token_bytes(32)
    result = db.execute(
        update(UserSession)
        .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
        .values(unlock_key=key)
    )
    return key if result.rowcount == 1 else None


def current_unlock_key(db: Any, row_id: str | None) -> bytes | None:
    """This live session's unlock key, or None (never made, forgotten, or the session ended)."""
    row = live_session(db, row_id)
    return row.unlock_key if row is not None else None


def forget_unlock_key(db: Any, row_id: str | None) -> None:
    """Forget this session's unlock key ("Lock"): what the browser kept can no longer open."""
    if row_id:
        db.execute(update(UserSession).where(UserSession.id == row_id).values(unlock_key=None))


def end_user_sessions(session: Any, user_id: str, *, except_id: str | None = None) -> int:
    """End every open session of a person (used on disable and password change)."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(**ending_values(utcnow()))
    )
    if except_id is not None:
        statement = statement.where(UserSession.id != except_id)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


class ServerSessionInterface(SessionInterface):
    """Flask session interface storing session data in the database."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(hours=settings.session_absolute_hours)

    def _expired(self, row: UserSession, now: datetime) -> bool:
        return (
            row.ended_at is not None
            or now - row.last_seen_at > self.idle
            or now - row.created_at > self.absolute
        )

    def get_cookie_name(self, app: Flask) -> str:
        """The session cookie's name (the CSRF check looks for it)."""
        return cookie_name(self.settings)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(cookie_name(self.settings))
        empty = ServerSession()
        empty.user_agent = (request.user_agent.string or "")[:300]
        if not token or len(token) > 100:
            return empty
        row_id = token_hash(token)
        now = utcnow()
        with self.database.session() as db:
            row = db.get(UserSession, row_id)
            if row is None:
                return empty
            if self._expired(row, now):
                if row.ended_at is None or row.unlock_key is not None:
                    row.ended_at = row.ended_at or now
                    row.unlock_key = None  # expired: its unlock key is forgotten at once
                    db.commit()
                return empty
            if now - row.last_seen_at > TOUCH_EVERY:
                row.last_seen_at = now
                db.commit()
            loaded = ServerSession(dict(row.data or {}), row_id=row_id)
            loaded.user_agent = empty.user_agent
            return loaded

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = cookie_name(self.settings)
        cookie_args: dict[str, Any] = {
            "httponly": True,
            "secure": self.settings.secure_cookies,
            "samesite": "Lax",
            "path": "/",
        }
        if not session.modified:
            return
        now = utcnow()
        with self.database.session() as db:
            if session.row_id and (session.ended or session.rotate or not session):
                db.execute(
                    update(UserSession)
                    .where(UserSession.id == session.row_id)
                    .values(**ending_values(now))
                )
            if not session:
                db.commit()
                if session.row_id:
                    response.delete_cookie(name, **cookie_args)
                return
            # an ended session that was given data again (the language kept after sign-out)
            # continues under a new id, like a rotated one
            data = dict(session)
            user_id = data.get("_user_id")
            if session.row_id and not session.rotate and not session.ended:
                row = db.get(UserSession, session.row_id)
                if row is not None and row.ended_at is None:
                    row.data = data
                    row.user_id = user_id
                    db.commit()
                    return
            token = secrets.token_urlsafe(32)
            db.add(
                UserSession(
                    id=token_hash(token),
                    user_id=user_id,
                    data=data,
                    created_at=now,
                    last_seen_at=now,
                    authenticated_at=now if user_id else None,
                    user_agent=session.user_agent,
                )
            )
            db.commit()
        response.set_cookie(name, token, **cookie_args)

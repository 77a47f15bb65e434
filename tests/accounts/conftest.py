"""Fixtures of the accounts tests: enrolled people, a real SMTP server, form helpers."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta

import pyotp
import pytest
from aiosmtpd.controller import Controller

from accounts.models import Role, User
from accounts.passwords import hash_password
from accounts.sessions import cookie_name
from accounts.totp import new_secret
from core.db import utcnow

PASSWORD = "violet harbour lantern 42"  # the test people's password


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {"to": list(envelope.rcpt_tos), "body": envelope.content.decode("utf-8", "replace")}
        )
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox(settings):
    """A real SMTP server on a free port; returns (settings pointing at it, its inbox)."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield settings.replace(smtp_host="127.0.0.1", smtp_port=port), handler
    finally:
        controller.stop()


@pytest.fixture
def mail_app(inbox):
    """The app sending its mail to the test SMTP server right after each commit."""
    from core.app import close_app, create_app

    mail_settings, handler = inbox
    application = create_app(mail_settings.replace(mail_send_in_web=True))
    application.config["TESTING"] = True
    yield application, handler
    close_app(application)


@pytest.fixture
def enrolled(db_session, make_user):
    """Factory: an active person with the test password and a TOTP secret."""

    def factory(role=Role.MEMBER, organizations=(), email=None) -> User:
        user = make_user(role, organizations=organizations, email=email)
        user.password_hash = hash_password(PASSWORD)
        user.totp_secret = new_secret()
        user.totp_enrolled_at = utcnow()
        db_session.commit()
        return user

    return factory


def csrf_of(response) -> str:
    """The CSRF token in a page's forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def code_for(user: User, steps_ahead: int = 0) -> str:
    """The TOTP code of the person's app, ``steps_ahead`` 30-second steps from now."""
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(utcnow() + timedelta(seconds=30 * steps_ahead))


def session_cookie(client, app) -> str | None:
    cookie = client.get_cookie(cookie_name(app.extensions["liaison.settings"]))
    return cookie.value if cookie else None


def sign_in_with_password(client, user: User, password: str = PASSWORD, code: str | None = None):
    """The two sign-in screens as a person uses them; returns the last response."""
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": csrf_of(page)}
    )
    if response.status_code != 303:
        return response
    page = client.get("/login/totp")
    return client.post(
        "/login/totp",
        data={"code": code or code_for(user), "csrf_token": csrf_of(page)},
    )

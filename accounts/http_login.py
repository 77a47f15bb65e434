"""Screens to sign in (password, then code), sign out and reset a forgotten password."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from accounts import login as login_service
from accounts import services
from accounts.errors import AccountError, InvalidCode, PasswordRejected, TooManyAttempts
from accounts.http_common import field, form_errors, safe_next, translated
from accounts.models import User
from core.db import utcnow
from core.i18n import gettext
from core.web import db_session, settings

log = logging.getLogger("liaison.accounts")

PENDING = "_login_pending"
PENDING_MINUTES = 5


def login() -> Any:
    """Step one: e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    next_page = safe_next(request.values.get("next"), "/")
    if request.method == "GET":
        notice = gettext("You are signed out.") if request.args.get("signed_out") else None
        return render_template("accounts/login.html", next=next_page, errors={}, notice=notice)
    email = field("email", 254)
    password = field("password", 1000)
    db = db_session()
    try:
        user = login_service.authenticate(db, settings(), email, password)
    except AccountError as error:
        db.commit()  # keep the failure count
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return render_template(
            "accounts/login.html",
            next=next_page,
            email=email,
            errors={"password": translated(error)},
        ), status
    db.commit()
    session.pop(PENDING, None)
    session[PENDING] = {"user_id": user.id, "at": utcnow().isoformat(), "next": next_page}
    return redirect(url_for("accounts.login_totp"), code=303)


def _pending_user() -> tuple[User | None, str]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, "/"
    try:
        started = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None, "/"
    if utcnow() - started > timedelta(minutes=PENDING_MINUTES):
        session.pop(PENDING, None)
        return None, "/"
    user = db_session().get(User, str(pending.get("user_id")))
    return user, safe_next(str(pending.get("next") or "/"))


def login_totp() -> Any:
    """Step two: a code from the authenticator app, or a recovery code."""
    user, next_page = _pending_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    if request.method == "GET":
        return render_template("accounts/login_totp.html", errors={})
    db = db_session()
    try:
        login_service.second_factor(db, settings(), user, field("code", 40))
    except AccountError as error:
        db.commit()
        if isinstance(error, TooManyAttempts):
            session.pop(PENDING, None)
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return render_template(
            "accounts/login_totp.html", errors={"code": translated(error)}
        ), status
    db.commit()
    session.pop(PENDING, None)
    session.pop("_csrf", None)  # a new CSRF token too: one planted before sign-in is worthless
    session.regenerate()  # type: ignore[attr-defined]  # a new cookie: no session fixation
    login_user(user, remember=False)
    return redirect(next_page, code=303)


def logout() -> Any:
    """End the session on the server (POST with CSRF token); the cookie becomes worthless."""
    locale = session.get("locale")
    logout_user()
    session.end()  # type: ignore[attr-defined]
    if locale:
        session["locale"] = locale  # the language stays; nothing else of the session does
    return redirect(url_for("accounts.login", signed_out=1), code=303)


def reset_request() -> Any:
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    if request.method == "GET":
        return render_template("accounts/reset_request.html", errors={}, sent=False)
    email = field("email", 254).strip()
    if not email or "@" not in email:
        errors = {"email": gettext("Enter a valid e-mail address.")}
        return render_template("accounts/reset_request.html", errors=errors, sent=False), 422
    db = db_session()
    # Known or not, the same path: at most a row in the mail outbox, sent after the commit.
    services.request_reset(db, settings(), email)
    db.commit()
    return render_template("accounts/reset_request.html", errors={}, sent=True)


def reset_form(token: str) -> Any:
    """Choose a new password from a reset link, confirmed with a second-factor code."""
    db = db_session()
    try:
        services.find_reset(db, token)
    except AccountError as error:
        return render_template("accounts/link_invalid.html", message=translated(error)), 404
    if request.method == "GET":
        return render_template("accounts/reset_form.html", token=token, errors={})
    try:
        services.complete_reset(
            db,
            settings(),
            token,
            password=field("password", 1000),
            confirmation=field("password_confirmation", 1000),
            code=field("code", 40),
        )
    except AccountError as error:
        db.commit()  # keep failure counts
        name = "password" if isinstance(error, PasswordRejected) else "code"
        status = 401 if isinstance(error, InvalidCode) else 422
        status = 429 if isinstance(error, TooManyAttempts) else status
        errors = form_errors(error, name)
        return render_template("accounts/reset_form.html", token=token, errors=errors), status
    db.commit()
    return redirect(url_for("accounts.login", reset=1), code=303)


def register(bp: Blueprint) -> None:
    """Add the sign-in, sign-out and reset routes."""
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/login/totp", "login_totp", login_totp, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    bp.add_url_rule("/password-reset", "reset_request", reset_request, methods=["GET", "POST"])
    bp.add_url_rule("/password-reset/<token>", "reset_form", reset_form, methods=["GET", "POST"])

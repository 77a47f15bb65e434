"""The person's own account: overview, password, recovery codes and open sessions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from accounts import services
from accounts.errors import AccountError, InvalidCode
from accounts.http_common import (
    ROLE_LABELS,
    browser_name,
    current_session_id,
    field,
    form_errors,
    local_time,
)
from accounts.models import Role
from accounts.totp import remaining_recovery_codes
from core.i18n import gettext
from core.web import db_session, settings


def _overview(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    user = current_user
    context = {
        "user": user,
        "role_label": ROLE_LABELS.get(user.role, user.role),
        "organisations": sorted(o.name for o in user.organizations),
        "recovery_left": remaining_recovery_codes(db_session(), user),
        "last_login": local_time(user.last_login_at, user.timezone),
        "may_see_people": user.has_role(Role.ORG_EDITOR),
        "errors": errors or {},
    }
    return render_template("accounts/account.html", **context), status


@login_required
def account() -> Any:
    """What the account is, with the forms to change it."""
    return _overview()


@login_required
def change_password() -> Any:
    """A new password; every other session of the person ends."""
    db = db_session()
    try:
        ended = services.change_password(
            db,
            current_user,
            current=field("current_password"),
            new=field("password"),
            confirmation=field("password_confirmation"),
            keep_session_id=current_session_id(),
        )
    except AccountError as error:
        db.rollback()
        return _overview(form_errors(error, "password"), 422)
    db.commit()
    flash(gettext("Your password has been changed. Other sessions ended: %(count)s.", count=ended))
    return redirect(url_for("accounts.account"), code=303)


@login_required
def recovery_codes() -> Any:
    """Ten new recovery codes after a current authenticator code; shown on this page once."""
    db = db_session()
    try:
        codes = services.regenerate_recovery_codes(db, current_user, field("code", 40))
    except InvalidCode as error:
        db.rollback()
        return _overview(form_errors(error, "code"), 422)
    db.commit()
    return render_template("accounts/recovery_codes.html", codes=codes, after_enrolment=False)


@login_required
def sessions() -> Any:
    """The person's open sessions: when they started, when last used, in which browser."""
    current = current_session_id()
    rows = [
        {
            "id": row.id,
            "current": row.id == current,
            "created": local_time(row.created_at, current_user.timezone),
            "last_seen": local_time(row.last_seen_at, current_user.timezone),
            "browser": browser_name(row.user_agent),
        }
        for row in services.open_sessions(db_session(), settings(), current_user)
    ]
    return render_template("accounts/sessions.html", sessions=rows)


@login_required
def end_session() -> Any:
    """End one session of the person's own (another browser, a forgotten computer)."""
    session_id = field("session_id", 64)
    if session_id == current_session_id():
        abort(400, description="Use “Sign out” to end the session you are using.")
    db = db_session()
    ended = services.end_session(db, current_user, session_id)
    db.commit()
    if not ended:
        abort(404)
    flash(gettext("The session has been ended."))
    return redirect(url_for("accounts.sessions"), code=303)


@login_required
def end_other_sessions() -> Any:
    """End every session of the person except this one."""
    db = db_session()
    count = services.end_other_sessions(db, current_user, current_session_id())
    db.commit()
    flash(gettext("Other sessions ended: %(count)s.", count=count))
    return redirect(url_for("accounts.sessions"), code=303)


def register(bp: Blueprint) -> None:
    """Add the account routes."""
    bp.add_url_rule("/account", "account", account)
    bp.add_url_rule("/account/password", "change_password", change_password, methods=["POST"])
    bp.add_url_rule("/account/recovery-codes", "recovery_codes", recovery_codes, methods=["POST"])
    bp.add_url_rule("/account/sessions", "sessions", sessions)
    bp.add_url_rule("/account/sessions/end", "end_session", end_session, methods=["POST"])
    bp.add_url_rule(
        "/account/sessions/end-others", "end_other_sessions", end_other_sessions, methods=["POST"]
    )

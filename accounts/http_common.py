"""Helpers shared by the accounts screens: translated errors, safe redirects, local times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from flask import abort, g, redirect, request, session
from flask_login import current_user
from werkzeug.wrappers import Response

from accounts.errors import AccountError, InvalidInput, PasswordRejected
from accounts.models import Role
from accounts.passwords import MAX_LENGTH, MIN_LENGTH
from core.i18n import format_datetime, gettext, ngettext

F = TypeVar("F", bound=Callable[..., Any])

ROLE_LABELS = {
    "member": "Member",
    "contact_point": "Contact point",
    "org_editor": "Organisation editor",
    "secretariat": "Secretariat",
    "admin": "Administrator",
}
FORM_LIMIT = 1000  # characters accepted in any single form field


def field(name: str, limit: int = FORM_LIMIT) -> str:
    """A form value as text, cut to a sane length (over-long input is refused by validation)."""
    return str(request.form.get(name, ""))[: limit + 1]


def translated(error: AccountError) -> str:
    """The error's message in the reader's language."""
    if error.plural is not None:
        values = dict(error.values)
        count = int(values.pop("count", 0))  # type: ignore[call-overload]
        return ngettext(error.message, error.plural, count, **values)
    return gettext(error.message, **error.values) if error.values else gettext(error.message)


def password_messages(error: PasswordRejected) -> str:
    """Every policy problem, translated, as one sentence list."""
    return " ".join(gettext(p, min=MIN_LENGTH, max=MAX_LENGTH) for p in error.problems)


def form_errors(error: AccountError, default_field: str) -> dict[str, str]:
    """The errors dict templates show next to each field."""
    if isinstance(error, PasswordRejected):
        return {default_field: password_messages(error)}
    if isinstance(error, InvalidInput):
        return {error.field: translated(error)}
    return {default_field: translated(error)}


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a step; anything else becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def current_session_id() -> str | None:
    """The id of the server-side session row of this request."""
    return getattr(session, "row_id", None)


def local_time(moment: datetime | None, zone: str | None = None) -> str:
    """A timestamp in the reader's time zone and language, e.g. ``28 Nov 2026, 14:05``."""
    return format_datetime(moment, zone=zone or "Europe/Brussels")


def browser_name(user_agent: str) -> str:
    """A short description of a browser from its User-Agent, e.g. ``Firefox on Windows``."""
    agent = user_agent or ""
    browser = "Unknown browser"
    for marker, name in (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("python-requests", "Script"),
        ("Werkzeug", "Script"),
    ):
        if marker in agent:
            browser = name
            break
    system = ""
    for marker, name in (
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ):
        if marker in agent:
            system = name
            break
    return f"{browser} · {system}" if system else browser


def role_required(role: Role) -> Callable[[F], F]:
    """Refuse (403) a signed-in person below ``role``; send anonymous visitors to sign in."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from flask import current_app

                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def secretariat_only() -> Response | None:
    """A blueprint's ``before_request`` for the secretariat's screens: anonymous visitors go to
    sign-in (and come back), anyone signed in below the secretariat gets 403."""
    user = g.get("user")
    if user is None:
        return redirect("/login?next=" + quote(request.path), code=303)
    if not user.has_role(Role.SECRETARIAT):
        abort(403)
    return None

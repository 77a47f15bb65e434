"""Accepting an invitation: name and password, then the authenticator app, then recovery codes.

Nothing is written until the last step succeeds: the choices of the first step wait in the
server-side session (the password only as its argon2 hash).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from accounts import invitations
from accounts.errors import AccountError, InvalidCode, InvalidInput
from accounts.http_common import ROLE_LABELS, field, form_errors, translated
from accounts.login import find_user_by_email
from accounts.models import Invitation
from accounts.services import checked_password_hash
from accounts.totp import (
    grouped,
    matching_counter,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    qr_data_uri,
)
from core.db import utcnow
from core.web import db_session

ENROLMENT = "_enrolment"


def _invalid(error: AccountError) -> Any:
    return render_template("accounts/link_invalid.html", message=translated(error)), 404


def _organisation_name(invitation: Invitation) -> str:
    if not invitation.organization_id:
        return ""
    from directory.models import Organization

    organization = db_session().get(Organization, invitation.organization_id)
    return organization.name if organization is not None else ""


def accept(token: str) -> Any:
    """Step one: the person's name, their e-mail (bootstrap links only) and password."""
    if current_user.is_authenticated:
        return render_template("accounts/invitation_signed_in.html"), 409
    db = db_session()
    try:
        invitation = invitations.find_open(db, token)
    except AccountError as error:
        return _invalid(error)
    context = {
        "token": token,
        "invitation": invitation,
        "organisation": _organisation_name(invitation),
        "role_label": ROLE_LABELS.get(invitation.role, invitation.role),
    }
    if request.method == "GET":
        return render_template("accounts/invitation.html", errors={}, values={}, **context)
    values = {"display_name": field("display_name", 200).strip(), "email": field("email", 254)}
    errors: dict[str, str] = {}
    email = invitation.email
    if not values["display_name"]:
        errors["display_name"] = translated(InvalidInput("display_name", "Enter your name."))
    elif len(values["display_name"]) > 200:
        errors["display_name"] = translated(
            InvalidInput("display_name", "Use at most %(max)s characters.", max=200)
        )
    if not email:
        try:
            email = invitations.normalize_email(values["email"])
            if find_user_by_email(db, email) is not None:
                raise InvalidInput("email", "An account with this e-mail address already exists.")
        except AccountError as error:
            errors.update(form_errors(error, "email"))
    password_hash = ""
    try:
        password_hash = checked_password_hash(
            field("password"), field("password_confirmation"), email
        )
    except AccountError as error:
        errors.update(form_errors(error, "password"))
    if errors:
        return render_template(
            "accounts/invitation.html", errors=errors, values=values, **context
        ), 422
    session[ENROLMENT] = {
        "invitation_id": invitation.id,
        "email": email,
        "display_name": values["display_name"],
        "password_hash": password_hash,
        "totp_secret": new_secret(),
    }
    return redirect(url_for("accounts.accept_totp", token=token), code=303)


def accept_totp(token: str) -> Any:
    """Step two: scan the QR code (or type the secret) and confirm with a first code."""
    db = db_session()
    try:
        invitation = invitations.find_open(db, token)
    except AccountError as error:
        return _invalid(error)
    enrolment = session.get(ENROLMENT)
    if not isinstance(enrolment, dict) or enrolment.get("invitation_id") != invitation.id:
        return redirect(url_for("accounts.accept", token=token))
    secret = str(enrolment["totp_secret"])
    uri = provisioning_uri(secret, str(enrolment["email"]))
    context = {"token": token, "qr": qr_data_uri(uri), "secret": grouped(secret)}
    if request.method == "GET":
        return render_template("accounts/invitation_totp.html", errors={}, **context)
    counter = matching_counter(secret, field("code", 40), None, utcnow())
    if counter is None:
        errors = {"code": translated(InvalidCode())}
        return render_template("accounts/invitation_totp.html", errors=errors, **context), 422
    try:
        user = invitations.accept(
            db,
            token,
            email=str(enrolment["email"]),
            display_name=str(enrolment["display_name"]),
            password_hash=str(enrolment["password_hash"]),
            totp_secret=secret,
            totp_counter=counter,
        )
    except AccountError as error:
        db.rollback()
        session.pop(ENROLMENT, None)
        return _invalid(error)
    codes = new_recovery_codes(db, user)
    user.last_login_at = utcnow()
    db.commit()
    session.pop(ENROLMENT, None)
    # Enrolment ends signed in, as a sign-in does: the password and a code were just given, and
    # that code's step is spent, so asking to sign in again would refuse it for up to 30 seconds.
    session.pop("_csrf", None)
    session.regenerate()  # type: ignore[attr-defined]  # a new cookie: no session fixation
    login_user(user, remember=False)
    return render_template("accounts/recovery_codes.html", codes=codes, after_enrolment=True)


def register(bp: Blueprint) -> None:
    """Add the invitation routes."""
    bp.add_url_rule("/invitations/<token>", "accept", accept, methods=["GET", "POST"])
    bp.add_url_rule(
        "/invitations/<token>/authenticator", "accept_totp", accept_totp, methods=["GET", "POST"]
    )

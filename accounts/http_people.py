"""Secretariat screens for people: who has an account, invitations, disabling and enabling.

Organisation editors see the same screen limited to their own organisations and may invite
colleagues into them (see accounts/invitations.py for the rules).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from accounts import invitations, services
from accounts.errors import AccountError, InvalidInput
from accounts.http_common import ROLE_LABELS, field, form_errors, local_time, role_required
from accounts.mails import invitation_locale, invitation_mail
from accounts.models import Role, User, user_organization
from core.i18n import gettext
from core.mail import MailError
from core.mail_outbox import enqueue
from core.web import db_session, settings
from directory.models import Organization


def _scope() -> set[str] | None:
    """Organisation ids the viewer manages (None: all of them)."""
    return None if current_user.has_role(Role.SECRETARIAT) else set(current_user.organization_ids)


def _people_context(errors: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    db = db_session()
    scope = _scope()
    statement = select(User).order_by(User.email)
    if scope is not None:
        statement = statement.join(user_organization).where(
            user_organization.c.organization_id.in_(scope or {""})
        )
    zone = current_user.timezone
    people = [
        {
            "id": person.id,
            "name": person.display_name,
            "email": person.email,
            "role": ROLE_LABELS.get(person.role, person.role),
            "organisations": ", ".join(sorted(o.name for o in person.organizations)),
            "active": person.is_active,
            "last_login": local_time(person.last_login_at, zone),
            "manageable": services.may_manage(current_user, person),
        }
        for person in db.scalars(statement).unique()
    ]
    organisations_query = select(Organization).order_by(Organization.name)
    if scope is not None:
        organisations_query = organisations_query.where(Organization.id.in_(scope or {""}))
    pending = [
        {
            "email": invitation.email or "—",
            "role": ROLE_LABELS.get(invitation.role, invitation.role),
            "expires": local_time(invitation.expires_at, zone),
        }
        for invitation in invitations.pending(db, scope)
    ]
    return {
        "people": people,
        "pending": pending,
        "organisations": list(db.scalars(organisations_query)),
        "roles": [
            (r.value, ROLE_LABELS[r.value]) for r in invitations.invitable_roles(current_user)
        ],
        "errors": errors or {},
        "values": {},
        **extra,
    }


@role_required(Role.ORG_EDITOR)
def people() -> Any:
    """Everyone with an account (or only the editor's colleagues) and open invitations."""
    return render_template("accounts/people.html", **_people_context())


@role_required(Role.ORG_EDITOR)
def invite() -> Any:
    """Invite someone: the link is e-mailed and shown here, once."""
    db = db_session()
    email, role = field("email", 254).strip(), field("role", 20)
    organization_id = field("organization_id", 36) or None
    language = field("language", 5)
    values = {
        "email": email,
        "organization_id": organization_id,
        "role": role,
        "language": language,
    }
    try:
        if not email:
            raise InvalidInput("email", "Enter a valid e-mail address.")
        invitation, link = invitations.invite(
            db,
            settings(),
            email=email,
            role=role,
            organization_id=organization_id,
            invited_by=current_user,
        )
    except AccountError as error:
        db.rollback()
        context = _people_context(form_errors(error, "email"))
        context["values"] = values
        return render_template("accounts/people.html", **context), 422
    mail = invitation_mail(
        invitation.email,
        link,
        current_user.display_name,
        invitation.expires_at,
        invitation_locale(db, language, organization_id, settings().default_locale),
    )
    mail_sent = True
    try:
        enqueue(db, mail, f"invite:{invitation.id}")  # sent after the commit, retried
    except MailError:
        mail_sent = False
    db.commit()
    context = _people_context(new_link=link, new_email=invitation.email, mail_sent=mail_sent)
    return render_template("accounts/people.html", **context)


def _set_active(user_id: str, active: bool) -> Any:
    db = db_session()
    person = db.get(User, user_id)
    if person is None:
        abort(404)
    try:
        services.set_active(db, current_user, person, active)
    except AccountError:
        abort(403)
    db.commit()
    message = "%(email)s can sign in again." if active else "%(email)s can no longer sign in."
    flash(gettext(message, email=person.email))
    return redirect(url_for("accounts.people"), code=303)


@role_required(Role.SECRETARIAT)
def disable(user_id: str) -> Any:
    """Disable an account; its sessions end at once."""
    return _set_active(user_id, False)


@role_required(Role.SECRETARIAT)
def enable(user_id: str) -> Any:
    """Let a disabled account sign in again."""
    return _set_active(user_id, True)


def register(bp: Blueprint) -> None:
    """Add the people routes."""
    bp.add_url_rule("/secretariat/people", "people", people)
    bp.add_url_rule("/secretariat/people/invite", "invite", invite, methods=["POST"])
    bp.add_url_rule("/secretariat/people/<user_id>/disable", "disable", disable, methods=["POST"])
    bp.add_url_rule("/secretariat/people/<user_id>/enable", "enable", enable, methods=["POST"])

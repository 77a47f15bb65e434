"""The /referrals page: the intake queue of a person's organisations, the referrals they sent, each
with its history, and the status buttons (plain forms with CSRF; no script needed).

The form of a referral is encrypted; the page links to its thread in /messages, where the
browser client opens it. Secretariat staff also see which referrals in the network are overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.http_common import local_time
from accounts.models import Role, User
from core.db import utcnow
from core.i18n import gettext as _
from core.web import db_session
from messaging.errors import Forbidden, NotFound, RelayError
from messaging.models import Referral, ReferralEvent
from messaging.refusals import REFUSALS
from messaging.services import referrals
from messaging.services.service_levels import is_overdue

referral_pages = Blueprint("referrals", __name__, url_prefix="/referrals")

# Labels of statuses, events and urgencies (the msgids of web/translations/*/referrals.po).
STATUS_LABELS = {
    "sent": "Waiting for acknowledgement",
    "acknowledged": "Acknowledged",
    "accepted": "Accepted",
    "declined": "Declined",
    "redirected": "Redirected",
    "closed": "Closed",
}
EVENT_LABELS = {
    "sent": "Sent",
    "acknowledged": "Acknowledged",
    "accepted": "Accepted",
    "declined": "Declined",
    "redirected": "Redirected",
    "closed": "Closed",
    "reminded": "Reminder e-mailed to the contact points",
    "escalated": "Escalated to the backup contact and the secretariat",
}
BUTTON_LABELS = {
    "acknowledged": "Acknowledge",
    "accepted": "Accept",
    "declined": "Decline",
    "redirected": "Redirect",
    "closed": "Close",
}
URGENCY_LABELS = {"high": "High urgency", "normal": "Normal urgency"}
_REFUSALS = {
    "bad-transition": "This referral has moved on meanwhile; its current status is shown below.",
    "bad-redirect": "Choose the organisation to redirect the referral to.",
    "same-organisation": "Choose another organisation than the one the referral was sent to.",
    "unknown-organisation": "That organisation is not in the directory.",
}


def _me() -> User:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _histories(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every listed referral's events, oldest first, in one query."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    statement = (
        select(ReferralEvent, User.display_name)
        .outerjoin(User, User.id == ReferralEvent.actor_id)
        .where(ReferralEvent.referral_id.in_(ids))
        .order_by(ReferralEvent.at, ReferralEvent.id)
    )
    for event, name in session.execute(statement).all():
        found[event.referral_id].append({"at": event.at, "event": event.event, "actor": name})
    return found


def _network_overdue(session: Session, now: datetime) -> list[Referral]:
    """Referrals anywhere in the network still waiting past their due time (secretariat)."""
    statement = (
        select(Referral)
        .where(Referral.status == "sent", Referral.ack_due_at < now)
        .order_by(Referral.ack_due_at)
        .limit(200)
    )
    return list(session.scalars(statement))


@referral_pages.get("")
@login_required
def overview() -> ResponseReturnValue:
    """Incoming referrals (contact points), sent referrals, and the network's overdue ones."""
    user = _me()
    session = db_session()
    now = utcnow()
    incoming = referrals.list_referrals(session, user, "incoming")
    outgoing = referrals.list_referrals(session, user, "outgoing")
    overdue = _network_overdue(session, now) if user.has_role(Role.SECRETARIAT) else []
    listed = [*incoming, *outgoing, *overdue]
    organisations = referrals.organisations_of(session, listed)
    redirecting = any("redirected" in referrals.allowed_changes(user, r) for r in incoming)
    response = make_response(
        render_template(
            "messaging/referrals.html",
            incoming=incoming,
            outgoing=outgoing,
            network_overdue=overdue,
            incoming_ids={r.id for r in incoming},
            organisations=organisations,
            histories=_histories(session, [r.id for r in listed]),
            senders=_sender_names(session, incoming),
            allowed=lambda r: referrals.allowed_changes(user, r),
            overdue=lambda r: is_overdue(r.status, r.ack_due_at, now),
            when=lambda moment: local_time(moment, user.timezone),
            redirect_choices=referrals.redirect_choices(session, user) if redirecting else [],
            is_contact_point=user.has_role(Role.CONTACT_POINT) and bool(user.organization_ids),
            STATUS_LABELS=STATUS_LABELS,
            EVENT_LABELS=EVENT_LABELS,
            BUTTON_LABELS=BUTTON_LABELS,
            URGENCY_LABELS=URGENCY_LABELS,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _sender_names(session: Session, rows: list[Referral]) -> dict[str, str]:
    ids = {r.sender_id for r in rows if r.sender_id is not None}
    if not ids:
        return {}
    statement = select(User.id, User.display_name).where(User.id.in_(ids))
    return {user_id: name for user_id, name in session.execute(statement).all()}


@referral_pages.post("/<referral_id>/status")
@login_required
def change_status(referral_id: str) -> ResponseReturnValue:
    """A status button: change, commit, and go back to the row."""
    user = _me()
    session = db_session()
    status = request.form.get("status", "")
    redirect_to = request.form.get("redirect_to", "") if status == "redirected" else None
    try:
        referral = referrals.change_status(
            session, user, referral_id, status, now=utcnow(), redirect_to=redirect_to
        )
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except RelayError as error:
        session.rollback()
        # this page's own wording first, else what every client says for the check, else generic
        text = _REFUSALS.get(error.check) or REFUSALS.get(error.check)
        flash(_(text or "The status was not changed."), "error")
        return redirect(f"/referrals#referral-{referral_id}", code=303)
    session.commit()
    flash(_("Status changed: %(status)s.", status=_(STATUS_LABELS[referral.status])), "success")
    return redirect(f"/referrals#referral-{referral.id}", code=303)

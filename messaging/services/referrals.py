"""Referrals: the relay's plaintext status of an envelope of kind ``referral``, and its changes.

The structured form travels encrypted; the server knows only the urgency (for service levels),
the organisations, the times and who changed the status. Status moves
sent → acknowledged → accepted | declined | redirected → closed; accepting or declining a
``sent`` referral also acknowledges it. Every change is a ``ReferralEvent``. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.orm import Session

from accounts.models import Role, User, user_organization
from config import Settings
from core.db import new_id
from directory.models import Organization
from directory.visibility import can_see_organization, organization_filter, viewer_for
from messaging.envelopes import UUID, format_time
from messaging.errors import BadTransition, Forbidden, Malformed, NotFound, Rejected
from messaging.models import Referral, ReferralEvent
from messaging.services.service_levels import URGENCIES, ack_due, is_overdue

STATUSES = ("sent", "acknowledged", "accepted", "declined", "redirected", "closed")
# Which status may follow which; the receiving contact points make every change but closing,
# which the sender may do too.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sent": ("acknowledged", "accepted", "declined"),
    "acknowledged": ("accepted", "declined", "redirected"),
    "accepted": ("closed",),
    "declined": ("closed",),
    "redirected": ("closed",),
    "closed": (),
}
_REFERRALS = cast(Table, Referral.__table__)
_EVENTS = cast(Table, ReferralEvent.__table__)


@dataclass(frozen=True)
class ReferralRequest:
    """The plaintext part of a posted referral: its urgency and the sending organisation."""

    urgency: str
    from_org: str | None


def parse_referral(document: Any) -> ReferralRequest:
    """Check the ``referral`` object of a posted envelope (400 when it is malformed)."""
    if not isinstance(document, dict) or not set(document) <= {"urgency", "from_org"}:
        raise Malformed(
            "referral must be an object with urgency and optionally from_org",
            check="bad-referral",
        )
    urgency = document.get("urgency")
    if urgency not in URGENCIES:
        raise Malformed("referral urgency must be high or normal", check="bad-referral")
    from_org = document.get("from_org")
    if from_org is not None and not (isinstance(from_org, str) and UUID.match(from_org)):
        raise Malformed("referral from_org must be an organisation id", check="bad-referral")
    return ReferralRequest(urgency, from_org)


def is_contact_point_of(user: User, organization_id: str | None) -> bool:
    """True when ``user`` is a contact point (or more) and a member of the organisation."""
    return (
        organization_id is not None
        and user.is_active
        and user.has_role(Role.CONTACT_POINT)
        and organization_id in user.organization_ids
    )


def may_see_organisation(user: User, organization: Organization | None) -> bool:
    """True when ``user`` may know of the organisation: it is visible to them, or their own.

    To anyone else a hidden (``secretariat``-only or unpublished) organisation does not exist, so
    every place that takes an organisation id answers for it exactly as for an unknown id.
    """
    if organization is None:
        return False
    return organization.id in user.organization_ids or can_see_organization(
        viewer_for(user), organization
    )


def redirect_choices(session: Session, user: User) -> list[Organization]:
    """The organisations ``user`` may redirect a referral to: accepting, and visible to them."""
    statement = (
        select(Organization)
        .where(Organization.accepts_cross_border_referrals.is_(True))
        .where(
            or_(
                organization_filter(viewer_for(user)),
                Organization.id.in_(sorted(user.organization_ids)),
            )
        )
        .order_by(Organization.country, Organization.name)
    )
    return list(session.scalars(statement))


def _sending_organisation(sender: User, request: ReferralRequest) -> str:
    own = sorted(sender.organization_ids)
    if request.from_org is None:
        if len(own) != 1:
            raise Rejected(
                "you belong to several organisations (or none): name from_org",
                check="from-org-required",
            )
        return own[0]
    if request.from_org not in own:
        raise Forbidden("from_org is not one of your organisations", check="not-your-organisation")
    return request.from_org


def _check_addressees(session: Session, organization_id: str, to: list[str]) -> None:
    """Every addressed person is a contact point (or more) of the receiving organisation."""
    roles = [role.value for role in Role if role.rank >= Role.CONTACT_POINT.rank]
    statement = (
        select(user_organization.c.user_id)
        .join(User, User.id == user_organization.c.user_id)
        .where(
            user_organization.c.organization_id == organization_id,
            user_organization.c.user_id.in_(to),
            User.role.in_(roles),
        )
    )
    allowed = set(session.scalars(statement))
    outside = sorted(set(to) - allowed)
    if outside:
        raise Rejected(
            "a referral goes only to contact points of to_org; not: " + ", ".join(outside),
            check="not-a-contact-point",
        )


def record_referral(
    session: Session,
    settings: Settings,
    sender: User,
    header: dict[str, Any],
    request: ReferralRequest,
    *,
    now: datetime,
) -> None:
    """Check a referral envelope's organisations and addressees, then write its status row.

    Called by the relay before it stores the envelope, in the same transaction.
    """
    to_org_id = header["to_org"]
    if to_org_id is None:
        raise Rejected("a referral names the receiving organisation in to_org", check="no-to-org")
    from_org_id = _sending_organisation(sender, request)
    organisations = {
        org.id: org
        for org in session.scalars(
            select(Organization).where(Organization.id.in_({to_org_id, from_org_id}))
        )
    }
    receiving = organisations.get(to_org_id)
    if receiving is None or not may_see_organisation(sender, receiving):
        raise Rejected(
            "to_org is not an organisation of the directory", check="unknown-organisation"
        )
    if not receiving.accepts_cross_border_referrals:
        raise Rejected(
            "this organisation does not accept referrals", check="organisation-not-accepting"
        )
    if to_org_id == from_org_id:
        raise Rejected("a referral goes to another organisation", check="same-organisation")
    _check_addressees(session, to_org_id, list(header["to"]))
    sending = organisations.get(from_org_id)
    connection = session.connection()
    connection.execute(
        insert(_REFERRALS),
        {
            "id": header["id"],
            "thread_id": header["thread"],
            "sender_id": sender.id,
            "from_org_id": from_org_id,
            "to_org_id": to_org_id,
            "from_country": sending.country if sending is not None else None,
            "to_country": receiving.country,
            "urgency": request.urgency,
            "status": "sent",
            "sent_at": now,
            "ack_due_at": ack_due(settings, request.urgency, now, receiving.country),
            "updated_at": now,
        },
    )
    connection.execute(
        insert(_EVENTS),
        {
            "id": new_id(),
            "referral_id": header["id"],
            "at": now,
            "actor_id": sender.id,
            "event": "sent",
            "from_status": None,
            "to_status": "sent",
        },
    )


# --- reading ---------------------------------------------------------------------------------


def may_view(user: User, referral: Referral) -> bool:
    """The sender, contact points of the sending organisation, and of the receiving one."""
    return (
        referral.sender_id == user.id
        or is_contact_point_of(user, referral.to_org_id)
        or is_contact_point_of(user, referral.from_org_id)
    )


def list_referrals(
    session: Session, user: User, box: str, status: str | None = None
) -> list[Referral]:
    """The caller's ``incoming`` referrals (to organisations they are a contact point of) or
    ``outgoing`` ones (sent by them or, for contact points, by their organisations), newest first.
    """
    if box not in {"incoming", "outgoing"}:
        raise Malformed("box must be incoming or outgoing", check="bad-box")
    if status is not None and status not in STATUSES:
        raise Malformed("status must be one of " + ", ".join(STATUSES), check="bad-status")
    own = sorted(user.organization_ids) if user.has_role(Role.CONTACT_POINT) else []
    statement = select(Referral)
    if box == "incoming":
        if not own or not user.is_active:
            return []
        statement = statement.where(Referral.to_org_id.in_(own))
    else:
        statement = statement.where(
            or_(Referral.sender_id == user.id, Referral.from_org_id.in_(own))
        )
    if status is not None:
        statement = statement.where(Referral.status == status)
    statement = statement.order_by(Referral.sent_at.desc(), Referral.id).limit(500)
    return list(session.scalars(statement))


def get_referral(session: Session, user: User, referral_id: str) -> Referral:
    """One referral the caller may see; 404 when absent or not theirs (never told apart)."""
    referral = session.get(Referral, referral_id) if UUID.match(referral_id) else None
    if referral is None or not may_view(user, referral):
        raise NotFound("no such referral")
    return referral


def events(session: Session, referral_id: str) -> list[tuple[ReferralEvent, str | None]]:
    """A referral's history, oldest first, with each actor's display name (None: the server)."""
    statement = (
        select(ReferralEvent, User.display_name)
        .outerjoin(User, User.id == ReferralEvent.actor_id)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    )
    return [(event, name) for event, name in session.execute(statement).all()]


def organisations_of(session: Session, referrals: list[Referral]) -> dict[str, Organization]:
    """Every organisation the referrals name, by id, in one query."""
    ids = {
        org_id
        for r in referrals
        for org_id in (r.from_org_id, r.to_org_id, r.redirected_to_org_id)
        if org_id is not None
    }
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Organization).where(Organization.id.in_(ids)))}


def _org_json(organisation: Organization | None) -> dict[str, str] | None:
    if organisation is None:
        return None
    return {"id": organisation.id, "name": organisation.name, "country": organisation.country}


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def referral_json(
    referral: Referral, organisations: dict[str, Organization], now: datetime
) -> dict[str, Any]:
    """The API's description of one referral (metadata only)."""
    return {
        "id": referral.id,
        "thread": referral.thread_id,
        "status": referral.status,
        "urgency": referral.urgency,
        "from_org": _org_json(organisations.get(referral.from_org_id or "")),
        "to_org": _org_json(organisations.get(referral.to_org_id or "")),
        "sent_at": _time(referral.sent_at),
        "ack_due_at": _time(referral.ack_due_at),
        "acknowledged_at": _time(referral.acknowledged_at),
        "accepted_at": _time(referral.accepted_at),
        "decided_at": _time(referral.decided_at),
        "closed_at": _time(referral.closed_at),
        "overdue": is_overdue(referral.status, referral.ack_due_at, now),
        "redirected_to": _org_json(organisations.get(referral.redirected_to_org_id or "")),
    }


def events_json(session: Session, referral_id: str) -> list[dict[str, Any]]:
    """A referral's history as the API shows it."""
    return [
        {
            "at": format_time(event.at),
            "event": event.event,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "actor": name,
        }
        for event, name in events(session, referral_id)
    ]


# --- changing the status ---------------------------------------------------------------------


def allowed_changes(user: User, referral: Referral) -> tuple[str, ...]:
    """The statuses ``user`` may move ``referral`` to now (what the page offers as buttons)."""
    receiving = is_contact_point_of(user, referral.to_org_id)
    return tuple(
        status
        for status in TRANSITIONS.get(referral.status, ())
        if receiving or (status == "closed" and referral.sender_id == user.id)
    )


def _new_values(before: str, status: str, now: datetime) -> dict[str, Any]:
    """The columns a change from ``before`` to ``status`` sets."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if before == "sent":
        values["acknowledged_at"] = now
    if status in {"accepted", "declined", "redirected"}:
        values["decided_at"] = now
    if status == "accepted":
        values["accepted_at"] = now
    if status == "closed":
        values["closed_at"] = now
    return values


def change_status(
    session: Session,
    user: User,
    referral_id: str,
    status: Any,
    *,
    now: datetime,
    redirect_to: Any = None,
) -> Referral:
    """Move a referral to ``status`` as ``user`` and record the event; the caller commits.

    404 when the caller may not see it, 403 when they may see it but not make this change,
    409 when the current status does not allow it, 400/422 for a bad status or redirect target.
    """
    if status not in STATUSES:
        raise Malformed("status must be one of " + ", ".join(STATUSES), check="bad-status")
    if status == "redirected":
        if not (isinstance(redirect_to, str) and UUID.match(redirect_to)):
            raise Malformed("name the organisation in redirect_to", check="bad-redirect")
    elif redirect_to is not None:
        raise Malformed("redirect_to goes only with status redirected", check="bad-redirect")
    referral = get_referral(session, user, referral_id)
    receiving = is_contact_point_of(user, referral.to_org_id)
    if not (receiving or (status == "closed" and referral.sender_id == user.id)):
        raise Forbidden(
            "only the receiving organisation's contact points may do this"
            + ("; the sender may close it" if status == "closed" else ""),
            check="not-a-receiving-contact-point",
        )
    if status not in TRANSITIONS[referral.status]:
        raise BadTransition(f"a referral that is {referral.status} cannot become {status}")
    if status == "redirected":
        target = session.get(Organization, redirect_to)
        if not may_see_organisation(user, target):
            raise Rejected("redirect_to is not an organisation", check="unknown-organisation")
        if redirect_to == referral.to_org_id:
            raise Rejected("redirect to another organisation", check="same-organisation")
    before = referral.status
    values = _new_values(before, status, now)
    if status == "redirected":
        values["redirected_to_org_id"] = redirect_to
    # Conditional on the status read above: of two people changing it at once, one wins.
    result = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == before).values(values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise BadTransition("the referral's status changed meanwhile; reload and try again")
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            actor_id=user.id,
            event=status,
            from_status=before,
            to_status=status,
        )
    )
    session.flush()
    return referral

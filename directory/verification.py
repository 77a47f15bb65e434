"""Keeping entries current: review intervals, signed verification links, confirmation, staleness.

Each organisation is due for review ``review_interval_days`` after it was last verified (180 days
for shelters and helplines, 365 for authorities and everyone else). Ahead of that day the jobs
e-mail its contact points a link carrying a ``VerificationRequest`` id, its expiry and an HMAC made
with the instance's secret key. The link only identifies the request: confirming needs a signed-in
contact point (or editor) of that organisation, and the row makes the link single-use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import Role, User, user_organization
from core import audit
from directory import services
from directory.errors import DirectoryError
from directory.importing.apply import review_interval_days
from directory.models import Organization, VerificationRequest
from directory.services import BRUSSELS

LINK_PURPOSE = b"liaison-verification-link:"


class Actor(Protocol):
    """The signed-in person acting (an ``accounts.models.User``)."""

    id: str
    is_active: bool

    def has_role(self, role: Role) -> bool:
        """True when the person's role is ``role`` or above."""
        ...

    @property
    def organization_ids(self) -> set[str]:
        """Ids of the organisations the person belongs to."""
        ...


class NotAllowed(DirectoryError):
    """The person is not a contact point or editor of this organisation (or not the secretariat)."""


class LinkRefused(DirectoryError):
    """A verification link that cannot be used: ``reason`` is invalid, expired or used."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def may_act_for(actor: Actor | None, organization_id: str) -> bool:
    """True for an active contact point or organisation editor who belongs to the organisation."""
    return (
        actor is not None
        and bool(actor.is_active)
        and actor.has_role(Role.CONTACT_POINT)
        and organization_id in actor.organization_ids
    )


def brussels_day(moment: datetime) -> date:
    """The calendar day in Brussels of a UTC time."""
    return moment.astimezone(BRUSSELS).date()


def default_interval(org_type: str, service_types: list[str] | None = None) -> int:
    """180 days for shelters and helplines, 365 for authorities and everyone else."""
    return review_interval_days(org_type, list(service_types or []))


def due_on(organization: Organization) -> date:
    """The day the organisation's entry is due for review."""
    if organization.next_review_on is not None:
        return organization.next_review_on
    since = organization.last_verified_at or organization.created_at
    return brussels_day(since) + timedelta(days=organization.review_interval_days)


def is_stale(organization: Organization, today: date) -> bool:
    """True when the entry is past its review day (shown as stale to members)."""
    return due_on(organization) < today


# -- signed links -------------------------------------------------------------------------------


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), LINK_PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_link(secret: str, request: VerificationRequest) -> str:
    """The token of a request's link: ``<id>.<expiry as Unix seconds>.<HMAC-SHA256>``."""
    payload = f"{request.id}.{int(request.expires_at.timestamp())}"
    return f"{payload}.{_mac(secret, payload)}"


def read_link(session: Session, secret: str, token: str, now: datetime) -> VerificationRequest:
    """The request a link names; ``LinkRefused`` when tampered with, expired or already used."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 200 or not parts[1].isdigit():
        raise LinkRefused("invalid")
    request_id, expiry, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, f"{request_id}.{expiry}")):
        raise LinkRefused("invalid")
    request = session.get(VerificationRequest, request_id)
    if request is None or int(request.expires_at.timestamp()) != int(expiry):
        raise LinkRefused("invalid")
    if request.used_at is not None:
        raise LinkRefused("used")
    if now >= request.expires_at:
        raise LinkRefused("expired")
    return request


# -- confirming ---------------------------------------------------------------------------------


def mark_verified(
    session: Session, actor_id: str | None, organization: Organization, now: datetime
) -> date:
    """Record the entry as verified today, through the directory service (audit, search outbox).

    Returns the next review day (today plus the organisation's review interval).
    """
    today = brussels_day(now)
    next_review = today + timedelta(days=organization.review_interval_days)
    services.update_organization(
        session,
        actor_id,
        organization.id,
        {
            "verification_status": "verified",
            "last_verified_on": today.isoformat(),
            "next_review_on": next_review.isoformat(),
        },
    )
    return next_review


def use_link(
    session: Session,
    actor: Actor,
    request: VerificationRequest,
    now: datetime,
    outcome: str = "confirmed",
) -> Organization:
    """Confirm (or, with ``corrected``, confirm with corrections sent) an entry through its link.

    Marks the link used, verifies the entry and writes an audit entry naming the outcome.
    """
    if not may_act_for(actor, request.organization_id):
        raise NotAllowed(request.organization_id)
    organization = services.get_organization_for_edit(session, request.organization_id)
    # Claim the link in one conditional UPDATE, so two clicks at once cannot both use it.
    claimed = session.execute(
        update(VerificationRequest)
        .where(VerificationRequest.id == request.id, VerificationRequest.used_at.is_(None))
        .values(used_at=now, used_by=actor.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused("used")
    session.refresh(request)
    audit.record(
        session,
        actor_id=actor.id,
        action=outcome,
        entity_type="verification",
        entity_id=request.id,
        organization_id=organization.id,
        field="due_on",
        new=request.due_on.isoformat(),
    )
    mark_verified(session, actor.id, organization, now)
    session.flush()
    return organization


# -- what is due --------------------------------------------------------------------------------


def contact_point_people(session: Session, organization_id: str) -> list[User]:
    """Active people of the organisation with the contact-point role or above, by e-mail."""
    roles = [role.value for role in Role if role.rank >= Role.CONTACT_POINT.rank]
    statement = (
        select(User)
        .join(user_organization, user_organization.c.user_id == User.id)
        .where(
            user_organization.c.organization_id == organization_id,
            User.is_active.is_(True),
            User.role.in_(roles),
        )
        .order_by(User.email)
    )
    return list(session.scalars(statement))


def secretariat_people(session: Session) -> list[User]:
    """Active secretariat members and admins, by e-mail."""
    statement = (
        select(User)
        .where(User.is_active.is_(True), User.role.in_(("secretariat", "admin")))
        .order_by(User.email)
    )
    return list(session.scalars(statement))


def organisations_due(session: Session, until: date) -> list[Organization]:
    """Published organisations whose review day is on or before ``until``, soonest first."""
    statement = select(Organization).where(
        Organization.is_published.is_(True),
        or_(Organization.next_review_on.is_(None), Organization.next_review_on <= until),
    )
    due = [o for o in session.scalars(statement) if due_on(o) <= until]
    return sorted(due, key=lambda o: (due_on(o), o.name))


def overdue_organisations(session: Session, today: date) -> list[Organization]:
    """Published organisations past their review day, longest overdue first."""
    return organisations_due(session, today - timedelta(days=1))


def claim_request(
    session: Session, organization: Organization, now: datetime, link_days: int
) -> VerificationRequest | None:
    """Create the request of the organisation's current review period, or None if one exists.

    The unique (organisation, due day) pair is the claim: of several job processes, only one
    inserts it. The caller commits (and on a conflict, rolls back).
    """
    due = due_on(organization)
    existing = session.scalar(
        select(VerificationRequest.id).where(
            VerificationRequest.organization_id == organization.id,
            VerificationRequest.due_on == due,
        )
    )
    if existing is not None:
        return None
    request = VerificationRequest(
        organization_id=organization.id,
        due_on=due,
        sent_at=now,
        expires_at=now + timedelta(days=link_days),
    )
    session.add(request)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return request


def open_request(session: Session, organization: Organization) -> VerificationRequest | None:
    """The request of the organisation's current review period, if one was sent."""
    return session.scalar(
        select(VerificationRequest).where(
            VerificationRequest.organization_id == organization.id,
            VerificationRequest.due_on == due_on(organization),
        )
    )


@dataclass(frozen=True)
class OverdueRow:
    """One overdue organisation as the secretariat's list shows it."""

    organization: Organization
    due_on: date
    days_overdue: int
    request: VerificationRequest | None


def overdue_rows(session: Session, today: date) -> list[OverdueRow]:
    """Overdue organisations with how long and whether their contact points were asked."""
    rows = []
    for organization in overdue_organisations(session, today):
        due = due_on(organization)
        rows.append(
            OverdueRow(organization, due, (today - due).days, open_request(session, organization))
        )
    return rows


def flag_overdue(session: Session, today: date, now: datetime) -> list[Organization]:
    """Mark newly overdue entries ``needs_review`` (audited); returns every overdue organisation."""
    overdue = overdue_organisations(session, today)
    for organization in overdue:
        if organization.verification_status != "needs_review":
            services.update_organization(
                session, None, organization.id, {"verification_status": "needs_review"}
            )
        request = open_request(session, organization)
        if request is not None and request.overdue_flagged_at is None:
            request.overdue_flagged_at = now
    session.flush()
    return overdue

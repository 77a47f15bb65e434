"""Referral service levels: remind the receiving contact points, then escalate, by content-free
e-mail.

A referral still ``sent`` past its ``ack_due_at`` gets one reminder to the receiving
organisation's contact points. When ``LIAISON_REFERRAL_ESCALATE_AFTER_PERIODS`` further
service-level periods have passed, one escalation goes to the organisation's backup contact(s) and
to the secretariat. Each step is claimed with a conditional UPDATE (``… WHERE reminded_at IS
NULL``) in the transaction that queues its e-mails in the mail outbox (keyed by referral, step and
address), so two job processes never send a step twice and the outbox retries until the SMTP
server accepts each e-mail.

The e-mails name no sender, no sending organisation and nothing of the case: only that a referral
waits, with a link to /referrals, in the recipient's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from accounts.models import Role, User, user_organization
from config import Settings
from core.db import Database, utcnow
from core.i18n import LOCALES, load_catalogues, mail_locale
from core.mail import Mail, MailError
from core.mail_outbox import enqueue
from directory.models import Contact, Organization
from messaging.models import Referral, ReferralEvent
from messaging.services.service_levels import escalation_due

log = logging.getLogger("liaison.messaging.referrals")

REMINDER_SUBJECT = "A referral awaits acknowledgement in Liaison"
ESCALATION_SUBJECT = "Escalation: a referral is still not acknowledged in Liaison"
REMINDER = "A referral to your organisation has not been acknowledged within its service level."
ESCALATION = (
    "A referral has still not been acknowledged, although the contact points of the receiving "
    "organisation were reminded. You receive this e-mail as a backup contact of that "
    "organisation or as the network's secretariat."
)
OPEN = "Sign in to Liaison to see the referrals that wait:"
FOOTER = (
    "For the safety of the people concerned this e-mail does not say who sent the referral, "
    "from which organisation, or anything about the case. Do not reply to this e-mail."
)


@dataclass(frozen=True)
class Alert:
    """One e-mail to send: a reminder or an escalation, to one address, in one language."""

    kind: str  # "reminded" or "escalated"
    referral_id: str
    email: str
    locale: str


def _claim(session: Session, referral_id: str, step: str, now: datetime) -> bool:
    """Mark one step as done unless another process did; True when this call claimed it."""
    column = Referral.reminded_at if step == "reminded" else Referral.escalated_at
    result = session.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.status == "sent", column.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        ReferralEvent(
            referral_id=referral_id,
            at=now,
            actor_id=None,
            event=step,
            from_status="sent",
            to_status="sent",
        )
    )
    return True


def _contact_points(session: Session, organization_id: str | None) -> list[tuple[str, str]]:
    """(e-mail, language) of the organisation's active contact points (role ≥ contact_point)."""
    if organization_id is None:
        return []
    roles = [role.value for role in Role if role.rank >= Role.CONTACT_POINT.rank]
    statement = (
        select(User.email, User.locale)
        .join(user_organization, user_organization.c.user_id == User.id)
        .where(user_organization.c.organization_id == organization_id)
        .where(User.is_active, User.role.in_(roles))
        .order_by(User.email)
    )
    organization = session.get(Organization, organization_id)
    working = organization.language_codes if organization is not None else []
    # The person's language, else the organisation's first working language we write in.
    return [
        (email, mail_locale(locale, working, default=""))
        for email, locale in session.execute(statement).all()
    ]


def _escalation_addresses(session: Session, organization_id: str | None) -> list[tuple[str, str]]:
    """(e-mail, language) of the organisation's backup contacts and the secretariat."""
    found: list[tuple[str, str]] = []
    if organization_id is not None:
        backups = select(Contact).where(
            Contact.organization_id == organization_id,
            Contact.is_backup.is_(True),
            Contact.email.is_not(None),
        )
        for contact in session.scalars(backups):
            language = next((code for code in contact.languages or [] if code in LOCALES), "")
            found.append((str(contact.email), language))
    secretariat = (
        select(User.email, User.locale)
        .where(User.is_active, User.role.in_([Role.SECRETARIAT.value, Role.ADMIN.value]))
        .order_by(User.email)
    )
    found.extend((email, locale or "") for email, locale in session.execute(secretariat).all())
    return found


def _unique(addresses: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    kept = []
    for email, locale in addresses:
        if email.strip().lower() not in seen:
            seen.add(email.strip().lower())
            kept.append((email, locale))
    return kept


def collect(session: Session, settings: Settings, now: datetime) -> list[Alert]:
    """Claim every reminder and escalation due at ``now``; return the e-mails to send."""
    waiting = select(Referral).where(
        Referral.status == "sent",
        Referral.ack_due_at <= now,
        or_(Referral.reminded_at.is_(None), Referral.escalated_at.is_(None)),
    )
    alerts: list[Alert] = []
    for referral in list(session.scalars(waiting)):
        steps = []
        if referral.reminded_at is None and _claim(session, referral.id, "reminded", now):
            steps.append(("reminded", _contact_points(session, referral.to_org_id)))
        due = escalation_due(settings, referral.urgency, referral.ack_due_at, referral.to_country)
        if (
            referral.escalated_at is None
            and due <= now
            and _claim(session, referral.id, "escalated", now)
        ):
            steps.append(("escalated", _escalation_addresses(session, referral.to_org_id)))
        for step, addresses in steps:
            if not addresses:
                log.warning("referral %s: nobody to e-mail for step %s", referral.id, step)
            alerts.extend(
                Alert(step, referral.id, email, locale) for email, locale in _unique(addresses)
            )
    session.flush()
    return alerts


def compose(settings: Settings, alert: Alert, catalogues: dict[str, dict[str, str]]) -> Mail:
    """The e-mail of one alert, in the recipient's language; it says nothing about the case."""
    locale = alert.locale if alert.locale in LOCALES else settings.default_locale

    def translate(text: str) -> str:
        return catalogues.get(locale, {}).get(text, text)

    reminder = alert.kind == "reminded"
    subject = translate(REMINDER_SUBJECT if reminder else ESCALATION_SUBJECT)
    line = translate(REMINDER if reminder else ESCALATION)
    link = settings.base_url.rstrip("/") + "/referrals"
    body = f"{line}\n\n{translate(OPEN)}\n{link}\n\n{translate(FOOTER)}\n"
    return Mail(to=alert.email, subject=subject, body=body)


def remind_and_escalate(settings: Settings, database: Database, now: datetime) -> int:
    """Claim every step due at ``now`` and queue its e-mails in one transaction; returns how many
    e-mails were queued."""
    queued = 0
    with database.session() as session:
        alerts = collect(session, settings, now)
        catalogues = load_catalogues() if alerts else {}
        for alert in alerts:
            key = f"referral:{alert.referral_id}:{alert.kind}:{alert.email.strip().lower()}"
            try:
                if enqueue(session, compose(settings, alert, catalogues), key):
                    queued += 1
            except MailError:
                log.warning("skipped a referral alert for %s: unusable address", alert.referral_id)
        session.commit()
    return queued


def referral_service_levels(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Job: remind and escalate referrals past their service level."""
    return remind_and_escalate(settings, database, max(slot_start, utcnow()))

"""Scheduled work of directory upkeep: ask contact points to verify, tell the secretariat what is
overdue.

``verification-requests`` runs every hour: for each published organisation whose review day is
within ``verification_lead_days``, it claims the (organisation, due day) request row and queues
the link's e-mail to the organisation's contact points in the mail outbox in the same transaction
(the outbox retries until the SMTP server accepts it). The unique row makes it once per review
period, whichever process or run gets there first. ``verification-overdue`` runs once a day: it
marks overdue entries ``needs_review`` and queues the secretariat one digest for the day.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from accounts.mails import user_locale
from config import Settings
from core.db import Database
from core.i18n import mail_locale
from core.jobs import Job
from core.mail import MailError
from core.mail_outbox import enqueue
from directory import verification
from directory.models import Organization
from directory.upkeep_mails import overdue_digest, verification_mail

log = logging.getLogger("liaison.directory.jobs")


def _link(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


def send_verification_requests(settings: Settings, database: Database, now: datetime) -> int:
    """Job: e-mail each organisation due for review its signed link, once per review period.

    ``now`` is the slot start (a frozen time in tests); returns how many organisations were asked.
    """
    today = verification.brussels_day(now)
    until = today + timedelta(days=settings.verification_lead_days)
    with database.session() as session:
        due_ids = [o.id for o in verification.organisations_due(session, until)]
    asked = 0
    for organization_id in due_ids:
        if _ask(settings, database, organization_id, now):
            asked += 1
    if asked:
        log.info("asked %d organisation(s) to verify their directory entry", asked)
    return asked


def _ask(settings: Settings, database: Database, organization_id: str, now: datetime) -> bool:
    with database.session() as session:
        organization = session.get(Organization, organization_id)
        if organization is None:
            return False
        people = verification.contact_point_people(session, organization_id)
        if not people:
            # Nobody to ask yet: leave the period unclaimed so a contact point added later is.
            return False
        request = verification.claim_request(
            session, organization, now, settings.verification_link_days
        )
        if request is None:
            return False
        token = verification.sign_link(settings.secret_key, request)
        link = _link(settings, f"/verify/{token}")
        for person in people:
            # The person's language, else the working language of the entry they are asked about.
            locale = mail_locale(
                person.locale, organization.language_codes, settings.default_locale
            )
            mail = verification_mail(
                person.email,
                organization.name,
                request.due_on,
                link,
                request.expires_at,
                locale=locale,
            )
            try:
                enqueue(session, mail, f"verify:{request.id}:{person.email.strip().lower()}")
            except MailError:
                log.warning("verification e-mail for %s: unusable address", organization_id)
        session.commit()
    return True


def flag_overdue(settings: Settings, database: Database, now: datetime) -> int:
    """Job: mark overdue entries for review and send the secretariat one digest for the day."""
    today = verification.brussels_day(now)
    with database.session() as session:
        overdue = verification.flag_overdue(session, today, now)
        rows = [
            (o.name, verification.due_on(o), (today - verification.due_on(o)).days) for o in overdue
        ]
        recipients = [
            (p.email, user_locale(p, settings.default_locale))
            for p in verification.secretariat_people(session)
        ]
        link = _link(settings, "/secretariat/verification")
        for to, locale in recipients if rows else []:
            try:
                enqueue(
                    session,
                    overdue_digest(to, rows, link, locale),
                    f"overdue:{today}:{to.strip().lower()}",
                )
            except MailError:
                log.warning("the overdue digest could not be queued for an unusable address")
        session.commit()
    return len(rows)


JOBS = [
    Job("directory-verification-requests", timedelta(hours=1), send_verification_requests),
    Job("directory-verification-overdue", timedelta(days=1), flag_overdue),
]

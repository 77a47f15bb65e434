"""Content-free e-mail notifications: at most one e-mail per person per batch window.

The e-mail says how many new secure messages wait and links to the inbox; never the sender, their
organisation, a subject, case data or TLP. Copies are marked as notified and the e-mail is queued
in the mail outbox in the same transaction, keyed by the first copy (envelope, person) it tells
of, so a notice is neither lost (the outbox retries until the SMTP server accepts it) nor sent
twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from accounts.mails import user_locale
from accounts.models import User
from config import Settings
from core.db import Database, utcnow
from core.i18n import LOCALES, load_catalogues, translator
from core.mail import Mail, MailError
from core.mail_outbox import enqueue
from messaging.models import Delivery, Envelope, NotificationState

log = logging.getLogger("liaison.messaging.notifications")

BATCH_WINDOW = timedelta(minutes=5)
SUBJECT = "New secure messages in Liaison"
ONE = "You have %(count)s new secure message in Liaison."
MANY = "You have %(count)s new secure messages in Liaison."
OPEN = "Sign in to Liaison to read your messages:"
FOOTER = (
    "For your safety this e-mail does not contain the message, its sender or its subject. "
    "Do not reply to this e-mail."
)


@dataclass(frozen=True)
class Notice:
    """One e-mail to send: who, in which language, how many new messages."""

    user_id: str
    email: str
    locale: str
    count: int
    first_envelope_id: str  # with the person, names the notice in the outbox: never queued twice


def collect(session: Session, now: datetime, window: timedelta = BATCH_WINDOW) -> list[Notice]:
    """Mark waiting copies as notified and return one notice per person not mailed this window."""
    recently = select(NotificationState.user_id).where(
        NotificationState.last_sent_at > now - window
    )
    waiting = and_(
        Delivery.notified_at.is_(None),
        Delivery.is_sender.is_(False),
        Delivery.deleted_at.is_(None),
        Delivery.acknowledged_at.is_(None),
        Delivery.recipient_id.not_in(recently),
        Envelope.id == Delivery.envelope_id,
        Envelope.expires_at > now,
    )
    counts = session.execute(
        select(Delivery.recipient_id, func.count(), func.min(Delivery.envelope_id))
        .where(waiting)
        .group_by(Delivery.recipient_id)
    ).all()
    people = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_([r for r, _, _ in counts])))
    }
    notices = []
    for recipient_id, count, first in counts:
        user = people.get(recipient_id)
        session.execute(
            update(Delivery)
            .where(Delivery.recipient_id == recipient_id, Delivery.notified_at.is_(None))
            .values(notified_at=now)
        )
        if user is None or not user.is_active:
            continue
        state = session.get(NotificationState, recipient_id)
        if state is None:
            session.add(NotificationState(user_id=recipient_id, last_sent_at=now))
        else:
            state.last_sent_at = now
        # The person's language, else their organisation's; compose() falls back to the default.
        locale = user_locale(user, default="")
        notices.append(Notice(user.id, user.email, locale, int(count), str(first)))
    session.flush()
    return notices


def compose(settings: Settings, notice: Notice, catalogues: dict[str, dict[str, str]]) -> Mail:
    """The e-mail of one notice, in the person's language."""
    locale = notice.locale if notice.locale in LOCALES else settings.default_locale

    def translate(text: str) -> str:
        return catalogues.get(locale, {}).get(text, text)

    line = translator(locale).ngettext(ONE, MANY, notice.count)
    link = settings.base_url.rstrip("/") + "/messages"
    body = f"{line}\n\n{translate(OPEN)}\n{link}\n\n{translate(FOOTER)}\n"
    return Mail(to=notice.email, subject=translate(SUBJECT), body=body)


def send_notifications(
    settings: Settings, database: Database, _slot_start: datetime | None = None
) -> int:
    """The batch job: mark copies notified and queue the e-mails in one transaction; returns how
    many e-mails were queued (the outbox sends them)."""
    now = utcnow()
    queued = 0
    with database.session() as session:
        notices = collect(session, now)
        catalogues = load_catalogues() if notices else {}
        for notice in notices:
            try:
                if enqueue(
                    session,
                    compose(settings, notice, catalogues),
                    f"notify:{notice.first_envelope_id}:{notice.user_id}",
                ):
                    queued += 1
            except MailError:
                # An address with a line break cannot become a header; never retried.
                log.warning("skipped a notification to user %s: unusable address", notice.user_id)
        session.commit()
    return queued

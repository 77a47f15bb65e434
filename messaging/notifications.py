"""Content-free e-mail notifications: at most one e-mail per person per batch window.

The e-mail says how many new secure messages wait and links to the inbox; never the sender, their
organisation, a subject, case data or TLP. Copies are marked as notified and committed before the
e-mail goes out; if the SMTP server refuses, the marks are undone so the next batch retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from accounts.models import User
from config import Settings
from core.db import Database, utcnow
from core.i18n import LOCALES, load_catalogues
from core.mail import Mail, MailError, build_message, send
from messaging.models import Delivery, Envelope, NotificationState

log = logging.getLogger("liaison.messaging.notifications")

BATCH_WINDOW = timedelta(minutes=5)
SUBJECT = "New secure messages in Liaison"
ONE = "You have 1 new secure message in Liaison."
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
        select(Delivery.recipient_id, func.count()).where(waiting).group_by(Delivery.recipient_id)
    ).all()
    people = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_([r for r, _ in counts])))
    }
    notices = []
    for recipient_id, count in counts:
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
        notices.append(Notice(user.id, user.email, user.locale or "", int(count)))
    session.flush()
    return notices


def compose(settings: Settings, notice: Notice, catalogues: dict[str, dict[str, str]]) -> Mail:
    """The e-mail of one notice, in the person's language."""
    locale = notice.locale if notice.locale in LOCALES else settings.default_locale

    def translate(text: str) -> str:
        return catalogues.get(locale, {}).get(text, text)

    line = translate(ONE) if notice.count == 1 else translate(MANY) % {"count": notice.count}
    link = settings.base_url.rstrip("/") + "/messages"
    body = f"{line}\n\n{translate(OPEN)}\n{link}\n\n{translate(FOOTER)}\n"
    return Mail(to=notice.email, subject=translate(SUBJECT), body=body)


def _undo(database: Database, notices: list[Notice], now: datetime) -> None:
    ids = [notice.user_id for notice in notices]
    with database.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.recipient_id.in_(ids), Delivery.notified_at == now)
            .values(notified_at=None)
        )
        session.execute(
            update(NotificationState)
            .where(NotificationState.user_id.in_(ids), NotificationState.last_sent_at == now)
            .values(last_sent_at=now - BATCH_WINDOW)
        )
        session.commit()


def send_notifications(
    settings: Settings, database: Database, _slot_start: datetime | None = None
) -> int:
    """The batch job: mark and commit, then send; returns how many e-mails went out."""
    now = utcnow()
    with database.session() as session:
        notices = collect(session, now)
        session.commit()
    if not notices:
        return 0
    catalogues = load_catalogues()
    mails: list[Mail] = []
    for notice in notices:
        mail = compose(settings, notice, catalogues)
        try:
            build_message(settings, mail)
        except MailError:
            # An address with a line break cannot become a header; never retried.
            log.warning("skipped a notification to user %s: unusable address", notice.user_id)
            continue
        mails.append(mail)
    try:
        return send(settings, mails)
    except MailError:
        _undo(database, notices, now)
        return 0

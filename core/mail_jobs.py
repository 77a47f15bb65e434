"""Scheduled work of the mail outbox: send what is due, forget what was sent long ago."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_

from config import Settings
from core.db import Database
from core.jobs import Job
from core.mail_outbox import MailOutbox, send_due

KEEP_SENT = timedelta(days=30)


def send_mail(settings: Settings, database: Database, _slot_start: datetime) -> int:
    """Job: send every queued e-mail that is due; returns how many the SMTP server accepted."""
    return send_due(settings, database)


def purge_mail(settings: Settings, database: Database, slot_start: datetime) -> int:
    """Job: forget e-mails sent (or given up on) more than 30 days ago.

    Their dedupe keys go with them; every notice they stood for is long settled by then.
    """
    before = slot_start - KEEP_SENT
    with database.session() as session:
        result = session.execute(
            delete(MailOutbox).where(
                or_(MailOutbox.sent_at < before, MailOutbox.failed_at < before)
            )
        )
        session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


JOBS = [
    Job("mail-send", timedelta(seconds=5), send_mail),
    Job("mail-purge", timedelta(days=1), purge_mail),
]

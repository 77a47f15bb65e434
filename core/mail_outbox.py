"""The mail outbox: every e-mail is queued in the transaction of the change that causes it, and
marked sent only once the SMTP server has accepted it.

``enqueue`` adds a row in the caller's transaction; a ``dedupe_key`` (``notify:<delivery id>``,
``reset:<token hash>``…) makes a second enqueue of the same notice a no-op, so a recipient never
gets it twice. ``send_due`` claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a claim
column with a lease everywhere, so several processes never send one row twice), sends them over
one SMTP connection and records each acceptance at once. A failure backs off exponentially up to
``mail_max_attempts``, then the row is marked failed and logged. A process killed mid-batch leaves
its claims to expire; the next sender takes them over.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from config import Settings
from core.after_commit import AfterCommitWorker
from core.db import Base, Database, UTCDateTime, utcnow
from core.jobs import worker_name
from core.mail import Mail, MailError, build_message, open_smtp

log = logging.getLogger("liaison.mail.outbox")

BATCH = 50


class MailOutbox(Base):
    """One e-mail waiting to be sent, sent, or given up on."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


def enqueue(session: Session, mail: Mail, dedupe_key: str | None = None) -> bool:
    """Queue ``mail`` in the caller's transaction; False when ``dedupe_key`` was queued before.

    Raises MailError when the mail could never become a message (a line break in a header).
    """
    if "\r" in mail.to or "\n" in mail.to or "\r" in mail.subject or "\n" in mail.subject:
        raise MailError("line breaks are not allowed in e-mail headers")
    key = dedupe_key or f"once:{uuid.uuid4()}"
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    if session.scalar(select(MailOutbox.id).where(MailOutbox.dedupe_key == key)) is not None:
        return False
    row = MailOutbox(
        dedupe_key=key,
        recipient=mail.to,
        subject=mail.subject,
        body=mail.body,
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    if session.get_bind().dialect.name == "postgresql":
        # A savepoint: a concurrent enqueue of the same key fails here, not the caller's commit.
        # (SQLite serialises writers; pysqlite's savepoints would end the outer transaction.)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            return False
    else:
        session.add(row)
    session.info["mail_outbox_dirty"] = True
    return True


def outbox_depth(session: Session) -> int:
    """How many e-mails wait to be sent (neither sent nor given up on)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(MailOutbox)
            .where(MailOutbox.sent_at.is_(None), MailOutbox.failed_at.is_(None))
        )
        or 0
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        MailOutbox.sent_at.is_(None),
        MailOutbox.failed_at.is_(None),
        MailOutbox.next_attempt_at <= now,
        or_(MailOutbox.claimed_until.is_(None), MailOutbox.claimed_until < now),
    )


def claim(database: Database, owner: str, lease: timedelta, limit: int = BATCH) -> list[MailOutbox]:
    """Claim up to ``limit`` due rows for ``owner`` and commit the claim."""
    now = utcnow()
    with database.session() as session:
        due = select(MailOutbox.id).where(_claimable(now)).order_by(MailOutbox.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        # The condition is repeated: on SQLite another process may have claimed since the read.
        session.execute(
            update(MailOutbox)
            .where(MailOutbox.id.in_(ids), _claimable(now))
            .values(claimed_by=owner, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return list(
            session.scalars(
                select(MailOutbox)
                .where(MailOutbox.id.in_(ids), MailOutbox.claimed_by == owner)
                .order_by(MailOutbox.id)
            )
        )


def _mark_sent(database: Database, row: MailOutbox, owner: str, renew: datetime) -> None:
    with database.session() as session:
        session.execute(
            update(MailOutbox)
            .where(MailOutbox.id == row.id)
            .values(sent_at=utcnow(), claimed_by=None, claimed_until=None, last_error=None)
        )
        # The batch is alive: keep the rest of its claims.
        session.execute(
            update(MailOutbox)
            .where(MailOutbox.claimed_by == owner, MailOutbox.sent_at.is_(None))
            .values(claimed_until=renew)
        )
        session.commit()


def _mark_failed(
    database: Database, settings: Settings, rows: list[MailOutbox], error: str
) -> None:
    now = utcnow()
    with database.session() as session:
        for row in rows:
            attempts = row.attempts + 1
            values: dict[str, object] = {
                "attempts": attempts,
                "last_error": error[:2000],
                "claimed_by": None,
                "claimed_until": None,
            }
            if attempts >= settings.mail_max_attempts:
                values["failed_at"] = now
                log.error(
                    "gave up on e-mail %s to %s after %d attempts: %s",
                    row.id,
                    row.recipient,
                    attempts,
                    error,
                )
            else:
                wait = settings.mail_retry_seconds * 2 ** (attempts - 1)
                values["next_attempt_at"] = now + timedelta(seconds=wait)
            session.execute(update(MailOutbox).where(MailOutbox.id == row.id).values(**values))
        session.commit()


def message_id(row: MailOutbox) -> str:
    """A stable Message-ID per queued e-mail: a resend after a cut connection carries the same."""
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:20]
    return f"<outbox-{row.id}.{digest}@liaison.invalid>"


def send_due(settings: Settings, database: Database, owner: str | None = None) -> int:
    """Send every due e-mail, batch by batch; returns how many the SMTP server accepted."""
    owner = f"{owner or worker_name()}:{threading.get_native_id()}:{uuid.uuid4().hex[:8]}"
    lease = timedelta(seconds=settings.job_lease_seconds)
    sent = 0
    while rows := claim(database, owner, lease):
        done, stop = _send_batch(settings, database, rows, owner, lease)
        sent += done
        if stop:
            break
    return sent


def _send_batch(
    settings: Settings,
    database: Database,
    rows: list[MailOutbox],
    owner: str,
    lease: timedelta,
) -> tuple[int, bool]:
    """Send one claimed batch; (accepted, whether to stop because the server is unreachable)."""
    sent = 0
    try:
        with open_smtp(settings) as smtp:
            for row in rows:
                try:
                    message = build_message(settings, Mail(row.recipient, row.subject, row.body))
                    message["Message-ID"] = message_id(row)
                    smtp.send_message(message)
                except (MailError, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                    # This one message was refused; the connection still serves the others.
                    _mark_failed(database, settings, [row], f"{type(error).__name__}: {error}")
                    continue
                _mark_sent(database, row, owner, utcnow() + lease)
                sent += 1
    except (OSError, smtplib.SMTPException) as error:
        left = _still_claimed(database, rows, owner)
        log.warning("could not reach the SMTP server (%s); %d e-mail(s) wait", error, len(left))
        _mark_failed(database, settings, left, f"{type(error).__name__}: {error}")
        return sent, True
    if sent:
        log.info("sent %d queued e-mail(s)", sent)
    return sent, False


def _still_claimed(database: Database, rows: list[MailOutbox], owner: str) -> list[MailOutbox]:
    with database.session() as session:
        return list(
            session.scalars(
                select(MailOutbox).where(
                    MailOutbox.id.in_([row.id for row in rows]),
                    MailOutbox.claimed_by == owner,
                    MailOutbox.sent_at.is_(None),
                )
            )
        )


class MailKicker(AfterCommitWorker):
    """Sends queued mail in a background thread right after a commit that queued some (the
    embedded default; in production the ``liaison jobs`` process sends)."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        super().__init__(
            "liaison-mail",
            lambda: send_due(self.settings, self.database),
            flag="mail_outbox_dirty",
            logger=log,
            failure="sending queued e-mail failed; the jobs process will retry",
        )

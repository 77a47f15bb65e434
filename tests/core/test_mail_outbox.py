"""The mail outbox against a real SMTP server (aiosmtpd): queued in the caller's transaction,
marked sent only once accepted, retried with back-off, never sent twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from core.db import utcnow
from core.mail import Mail, MailError, free_port
from core.mail_outbox import MailOutbox, enqueue, outbox_depth, send_due


class Inbox:
    """An aiosmtpd handler keeping (recipient, subject) of what it accepts; refuses one address."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield settings.replace(smtp_host="127.0.0.1", smtp_port=controller.port), handler
    finally:
        controller.stop()


@pytest.fixture
def database(app):
    return app.extensions["liaison.db"]


def _queue(database, *addresses: str, key: str = "test") -> None:
    with database.session() as session:
        for address in addresses:
            enqueue(session, Mail(address, "Hello", "Body"), f"{key}:{address}")
        session.commit()


def test_the_same_notice_is_queued_and_sent_once(smtp, database, db_session):
    mail_settings, inbox = smtp
    _queue(database, "ana@example.org")
    _queue(database, "ana@example.org")  # the same dedupe key again: nothing new

    assert outbox_depth(db_session) == 1
    assert send_due(mail_settings, database) == 1
    assert send_due(mail_settings, database) == 0
    assert inbox.received == ["ana@example.org"]
    assert outbox_depth(db_session) == 0


def test_a_rolled_back_change_queues_nothing(database, db_session):
    with database.session() as session:
        enqueue(session, Mail("ana@example.org", "Hello", "Body"), "gone")
        session.rollback()
    assert outbox_depth(db_session) == 0


def test_a_header_injection_is_refused_when_queued(database):
    with database.session() as session, pytest.raises(MailError):
        enqueue(session, Mail("a@example.org\r\nBcc: spy@evil.example", "Hi", "Body"), "x")


def test_failures_back_off_exponentially_then_the_mail_is_marked_failed(
    settings, database, db_session, caplog
):
    down = settings.replace(mail_retry_seconds=60, mail_max_attempts=3)  # closed port
    _queue(database, "ana@example.org")
    waits = []
    for _ in range(3):
        before = utcnow()
        assert send_due(down, database) == 0
        db_session.expire_all()
        row = db_session.query(MailOutbox).one()
        waits.append(round((row.next_attempt_at - before).total_seconds() / 60))
        # make it due again at once, as if the wait had passed
        db_session.execute(update(MailOutbox).values(next_attempt_at=utcnow()))
        db_session.commit()

    db_session.expire_all()
    row = db_session.query(MailOutbox).one()
    assert waits[:2] == [1, 2]  # one minute, then two
    assert row.attempts == 3
    assert row.failed_at is not None
    assert row.sent_at is None
    assert row.last_error
    assert "gave up on e-mail" in caplog.text
    assert outbox_depth(db_session) == 0  # given up on: no longer waiting


def test_a_refused_recipient_fails_alone_and_the_others_are_sent(smtp, database, db_session):
    mail_settings, inbox = smtp
    _queue(database, "ana@example.org", "refused@example.org", "bob@example.org")

    assert send_due(mail_settings, database) == 2

    assert sorted(inbox.received) == ["ana@example.org", "bob@example.org"]
    refused = db_session.query(MailOutbox).filter_by(recipient="refused@example.org").one()
    assert refused.sent_at is None
    assert refused.attempts == 1
    assert "550" in refused.last_error


def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(smtp, database, db_session):
    mail_settings, inbox = smtp
    _queue(database, "ana@example.org", "bob@example.org")
    db_session.execute(
        update(MailOutbox).values(
            claimed_by="4242@dead-host", claimed_until=utcnow() + timedelta(minutes=1)
        )
    )
    db_session.commit()
    assert send_due(mail_settings, database) == 0  # still under the dead process's lease

    db_session.execute(update(MailOutbox).values(claimed_until=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    assert send_due(mail_settings, database) == 2
    assert sorted(inbox.received) == ["ana@example.org", "bob@example.org"]


def test_concurrent_senders_never_send_one_mail_twice(smtp, database):
    mail_settings, inbox = smtp
    addresses = [f"person{n}@example.org" for n in range(40)]
    _queue(database, *addresses)
    start = threading.Barrier(3)
    totals: list[int] = []

    def sender() -> None:
        start.wait()
        totals.append(send_due(mail_settings, database))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    deadline = time.monotonic() + 5
    while len(inbox.received) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sum(totals) == 40
    assert sorted(inbox.received) == sorted(addresses)

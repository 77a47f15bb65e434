"""Notification e-mails through a real SMTP server: one per person per batch, and content-free."""

from __future__ import annotations

import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.controller import Controller

from accounts.models import User
from core.mail_outbox import MailOutbox, send_due
from messaging.notifications import send_notifications
from tests.messaging.conftest import sealed

MARKER = "ZEBRA-7731 slachtoffer Antwerpen"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port; yields (settings pointing at it, its inbox)."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield (
            settings.replace(
                smtp_host="127.0.0.1",
                smtp_port=controller.port,
                base_url="https://liaison.example.org",
            ),
            handler,
        )
    finally:
        controller.stop()


def notify(mail_settings, database) -> int:
    """The notification job, then the outbox sender; returns how many notices were queued."""
    queued = send_notifications(mail_settings, database)
    send_due(mail_settings, database)
    return queued


def _by_recipient(inbox: Inbox) -> dict[str, list]:
    out: dict[str, list] = {}
    for recipients, message in inbox.messages:
        for address in recipients:
            out.setdefault(address, []).append(message)
    return out


def test_one_content_free_email_per_recipient_per_batch(app, smtp, make_person):
    mail_settings, inbox = smtp
    anna, bram, chloe = make_person(), make_person(), make_person("B")
    for _ in range(2):
        anna.post("/api/v1/messages", json=sealed(anna, bram, chloe, text=MARKER))
    anna.post("/api/v1/messages", json=sealed(anna, chloe, text=MARKER))
    database = app.extensions["liaison.db"]

    sent = notify(mail_settings, database)
    inbox.wait_for(2)
    again = notify(mail_settings, database)

    assert (sent, again) == (2, 0)
    received = _by_recipient(inbox)
    assert set(received) == {bram.user.email, chloe.user.email}  # not the sender
    bram_mail = received[bram.user.email][0]
    chloe_mail = received[chloe.user.email][0]
    assert "You have 2 new secure messages in Liaison." in bram_mail.get_content()
    assert "You have 3 new secure messages in Liaison." in chloe_mail.get_content()
    assert "https://liaison.example.org/messages" in bram_mail.get_content()
    for message in (bram_mail, chloe_mail):
        whole = message.as_string()
        for secret in (
            MARKER,
            "Doorverwijzing",
            "TLP",
            anna.user.display_name,
            anna.user.email,
            "Payoke",
            "CoMensha",
        ):
            assert secret not in whole


def test_messages_arriving_after_a_batch_are_told_in_the_next_window(app, smtp, make_person):
    mail_settings, inbox = smtp
    anna, bram = make_person(), make_person()
    database = app.extensions["liaison.db"]
    anna.post("/api/v1/messages", json=sealed(anna, bram))
    notify(mail_settings, database)
    anna.post("/api/v1/messages", json=sealed(anna, bram))

    within_window = notify(mail_settings, database)

    assert within_window == 0  # at most one e-mail per person per batch window
    inbox.wait_for(1)
    assert len(inbox.messages) == 1


def test_nothing_is_sent_for_messages_already_fetched_or_receipts(app, smtp, make_person):
    mail_settings, inbox = smtp
    anna, bram = make_person(), make_person()
    message_id = anna.post("/api/v1/messages", json=sealed(anna, bram)).get_json()["id"]
    bram.post(f"/api/v1/messages/{message_id}/ack")

    assert notify(mail_settings, app.extensions["liaison.db"]) == 0
    assert inbox.messages == []


def test_the_email_is_in_the_recipients_language(app, smtp, make_person, db_session):
    mail_settings, inbox = smtp
    anna, bram = make_person(), make_person()
    db_session.get(User, bram.id).locale = "nl"
    db_session.commit()
    anna.post("/api/v1/messages", json=sealed(anna, bram))

    notify(mail_settings, app.extensions["liaison.db"])
    inbox.wait_for(1)

    message = inbox.messages[0][1]
    assert "U hebt 1 nieuw beveiligd bericht in Liaison." in message.get_content()
    assert message["Subject"] == "Nieuwe beveiligde berichten in Liaison"


def test_a_line_break_in_an_address_cannot_add_a_header(app, smtp, make_person, db_session):
    mail_settings, inbox = smtp
    anna, bram, carl = make_person(), make_person(), make_person()
    db_session.get(User, carl.id).email = "carl@example.org\r\nBcc: spy@evil.example"
    db_session.commit()
    anna.post("/api/v1/messages", json=sealed(anna, bram, carl))

    sent = notify(mail_settings, app.extensions["liaison.db"])
    inbox.wait_for(1)

    assert sent == 1
    assert [recipients for recipients, _ in inbox.messages] == [[bram.user.email]]
    assert all("Bcc" not in message for _, message in inbox.messages)
    assert all("spy@evil.example" not in message.as_string() for _, message in inbox.messages)


def test_when_the_smtp_server_is_down_the_notice_waits_and_is_sent_once(
    app, settings, smtp, make_person, db_session
):
    mail_settings, inbox = smtp
    anna, bram = make_person(), make_person()
    anna.post("/api/v1/messages", json=sealed(anna, bram))
    database = app.extensions["liaison.db"]
    down = settings.replace(smtp_host="127.0.0.1", smtp_port=free_port(), mail_retry_seconds=0)

    queued = send_notifications(down, database)
    assert send_due(down, database) == 0  # refused: the notice stays queued, not lost
    assert send_notifications(mail_settings, database) == 0  # not queued a second time
    assert send_due(mail_settings, database) == 1
    inbox.wait_for(1)

    assert queued == 1
    assert len(inbox.messages) == 1
    row = db_session.query(MailOutbox).one()
    assert row.attempts == 1
    assert row.sent_at is not None


def test_a_notice_is_queued_with_the_copies_it_tells_of_so_a_rerun_queues_nothing(
    app, smtp, make_person, db_session
):
    mail_settings, inbox = smtp
    anna, bram = make_person(), make_person()
    anna.post("/api/v1/messages", json=sealed(anna, bram))
    database = app.extensions["liaison.db"]

    assert send_notifications(mail_settings, database) == 1
    assert inbox.messages == []  # queued, not yet sent
    row = db_session.query(MailOutbox).one()
    assert row.recipient == bram.user.email
    assert row.dedupe_key.startswith("notify:")
    assert send_notifications(mail_settings, database) == 0
    assert send_due(mail_settings, database) == 1
    assert send_due(mail_settings, database) == 0
    inbox.wait_for(1)
    assert len(inbox.messages) == 1


def test_each_notification_is_in_its_recipients_language_only(
    app, smtp, make_person, organisations, db_session
):
    """Dutch by the person's choice, German likewise, French by the organisation's language."""
    from directory.models import Language

    mail_settings, inbox = smtp
    anna, bram, dirk = make_person(), make_person(), make_person()
    chloe = make_person("B")
    bram.user.locale, dirk.user.locale, chloe.user.locale = "nl", "de", None
    organisations["B"].languages = [Language(code="fr", position=0)]
    db_session.commit()
    anna.post("/api/v1/messages", json=sealed(anna, bram, chloe, dirk))
    anna.post("/api/v1/messages", json=sealed(anna, chloe))

    assert notify(mail_settings, app.extensions["liaison.db"]) == 3
    inbox.wait_for(3)
    received = {address: mail for address, mail in _by_recipient(inbox).items()}
    expected = {
        bram.user.email: ("Nieuwe beveiligde berichten in Liaison", "U hebt 1 nieuw beveiligd"),
        chloe.user.email: (
            "Nouveaux messages sécurisés dans Liaison",
            "Vous avez 2 nouveaux messages sécurisés dans Liaison.",
        ),
        dirk.user.email: (
            "Neue sichere Nachrichten in Liaison",
            "Sie haben 1 neue sichere Nachricht in Liaison.",  # codespell:ignore
        ),
    }
    for address, (subject, line) in expected.items():
        (message,) = received[address]
        assert message["Subject"] == subject
        text = message.get_content()
        assert line in text
        assert "You have" not in text
        assert "secure message" not in text

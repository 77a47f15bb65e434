"""The referral service-level job with a frozen clock and a real SMTP server: one reminder to the
receiving contact points, then one escalation to the backup contact and the secretariat, both
content-free, and nothing twice."""

# ruff: noqa: F811 - fixtures are imported by name

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from accounts.models import Role
from core.mail_outbox import send_due
from directory.models import Contact, Language
from messaging.jobs import JOBS
from messaging.models import Referral
from messaging.referral_reminders import remind_and_escalate
from tests.messaging.referral_fixtures import cast  # noqa: F401 - a fixture
from tests.messaging.test_notifications import smtp  # noqa: F401 - a fixture

SECRETS = ("ZEBRA", "Payoke", "BE", "Doorverwijzing")


@pytest.fixture
def network(cast, db_session, make_user):
    """B's backup contact, an ordinary contact, the secretariat (one active, one not)."""
    db_session.add_all(
        [
            Contact(
                organization_id=cast.b.id,
                email="backup@comensha.example",
                is_backup=True,
                languages=["nl"],
            ),
            Contact(organization_id=cast.b.id, email="desk@comensha.example", is_backup=False),
        ]
    )
    secretariat = make_user(Role.SECRETARIAT, email="secretariaat@liaison.example")
    secretariat.locale = "fr"
    gone = make_user(Role.ADMIN, email="former@liaison.example")
    gone.is_active = False
    cast.intake.user.locale = "nl"
    db_session.commit()
    return cast


def mails(inbox, since: int = 0) -> list[tuple[str, str, str]]:
    """(recipient, subject, body) of every e-mail received after the first ``since``."""
    return [
        (rcpt[0], message["Subject"], message.get_content())
        for rcpt, message in inbox.messages[since:]
    ]


def test_an_unacknowledged_high_urgency_referral_is_reminded_then_escalated_once(
    network, smtp, app, db_session
):
    settings, inbox = smtp
    database = app.extensions["liaison.db"]
    referral_id = network.send("high")
    sent_at = db_session.get(Referral, referral_id).sent_at

    def run(hours: float) -> int:
        queued = remind_and_escalate(settings, database, sent_at + timedelta(hours=hours))
        send_due(settings, database)
        return queued

    assert run(3.9) == 0  # within the service level
    assert run(4.1) == 2  # reminder: the two contact points of B
    inbox.wait_for(2)
    reminders = mails(inbox)
    assert sorted(to for to, _, _ in reminders) == sorted(
        [network.intake.user.email, network.colleague.user.email]
    )
    dutch = next(body for to, _, body in reminders if to == network.intake.user.email)
    assert "Een doorverwijzing naar uw organisatie" in dutch
    assert run(4.2) == 0  # nothing twice
    assert run(7.9) == 0  # escalation waits one more service level (4 hours)

    assert run(8.1) == 2  # escalation: backup contact and active secretariat
    inbox.wait_for(4)
    escalations = mails(inbox, 2)
    assert sorted(to for to, _, _ in escalations) == [
        "backup@comensha.example",
        "secretariaat@liaison.example",
    ]
    french = next(body for to, _, body in escalations if to.startswith("secretariaat"))
    assert "Une orientation n'a toujours pas" in french
    assert run(9) == 0
    assert run(48) == 0

    for to, subject, body in mails(inbox):
        assert "https://liaison.example.org/referrals" in body
        for secret in (*SECRETS, network.sender.user.display_name, network.sender.user.email):
            assert secret not in subject
            assert secret not in body, (to, secret)
    history = network.intake.get(f"/api/v1/referrals/{referral_id}").get_json()["events"]
    assert [(e["event"], e["actor"]) for e in history] == [
        ("sent", network.sender.user.display_name),
        ("reminded", None),
        ("escalated", None),
    ]
    db_session.expire_all()
    referral = db_session.get(Referral, referral_id)
    assert referral.reminded_at == sent_at + timedelta(hours=4.1)
    assert referral.escalated_at == sent_at + timedelta(hours=8.1)
    assert referral.status == "sent"


def test_an_acknowledged_referral_is_neither_reminded_nor_escalated(network, smtp, app, db_session):
    settings, inbox = smtp
    referral_id = network.send("high")
    network.status(network.intake, referral_id, "acknowledged")
    sent_at = db_session.get(Referral, referral_id).sent_at
    database = app.extensions["liaison.db"]
    assert remind_and_escalate(settings, database, sent_at + timedelta(days=3)) == 0
    assert inbox.messages == []


def test_a_normal_referral_is_reminded_after_two_working_days(network, smtp, app, db_session):
    settings, _inbox = smtp
    referral_id = network.send("normal")
    referral = db_session.get(Referral, referral_id)
    database = app.extensions["liaison.db"]
    assert remind_and_escalate(settings, database, referral.ack_due_at - timedelta(minutes=1)) == 0
    assert remind_and_escalate(settings, database, referral.ack_due_at) == 2


def test_concurrent_job_runs_send_each_step_once(network, smtp, app, db_session):
    settings, inbox = smtp
    referral_id = network.send("high")
    sent_at = db_session.get(Referral, referral_id).sent_at
    database = app.extensions["liaison.db"]
    moment = sent_at + timedelta(hours=4, minutes=1)

    def run(_: int) -> int:
        try:
            return remind_and_escalate(settings, database, moment)
        except OperationalError:  # SQLite: the other writer holds the lock; nothing sent
            return 0

    with ThreadPoolExecutor(3) as pool:
        sent = list(pool.map(run, range(3)))

    assert sum(sent) == 2
    assert send_due(settings, database) == 2
    inbox.wait_for(2)
    assert len(inbox.messages) == 2


def test_a_refused_smtp_server_keeps_the_steps_emails_queued_until_it_answers(
    network, smtp, settings, app, db_session
):
    working, inbox = smtp
    referral_id = network.send("high")
    sent_at = db_session.get(Referral, referral_id).sent_at
    database = app.extensions["liaison.db"]
    later = sent_at + timedelta(hours=5)
    closed = settings.replace(mail_retry_seconds=0)  # the test settings' closed port

    assert remind_and_escalate(closed, database, later) == 2
    assert send_due(closed, database) == 0
    assert inbox.messages == []
    assert remind_and_escalate(working, database, later + timedelta(minutes=5)) == 0  # claimed
    assert send_due(working, database) == 2
    inbox.wait_for(2)
    assert len(inbox.messages) == 2
    history = network.intake.get(f"/api/v1/referrals/{referral_id}").get_json()["events"]
    assert [e["event"] for e in history] == ["sent", "reminded"]


def test_the_job_is_registered():
    assert "messaging-referral-service-levels" in {job.name for job in JOBS}


def test_a_contact_point_without_a_language_is_reminded_in_the_organisations(
    network, smtp, app, db_session
):
    settings, inbox = smtp
    network.colleague.user.locale = None
    network.b.languages = [Language(code="es", position=0), Language(code="de", position=1)]
    db_session.commit()
    referral_id = network.send("high")
    sent_at = db_session.get(Referral, referral_id).sent_at
    database = app.extensions["liaison.db"]
    assert remind_and_escalate(settings, database, sent_at + timedelta(hours=4.1)) == 2
    send_due(settings, database)
    inbox.wait_for(2)
    german = next(
        (subject, body) for to, subject, body in mails(inbox) if to == network.colleague.user.email
    )
    assert "Eine Verweisung an Ihre Organisation" in german[1]
    assert "has not been acknowledged" not in german[1]

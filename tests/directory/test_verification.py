"""Verification: the job asks each organisation due for review once per period, by a signed and
expiring link that only the organisation's signed-in contact points can use; overdue entries are
flagged to the secretariat and shown as stale to members.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from accounts.models import Role
from core.audit import AuditEntry
from core.db import Database, utcnow
from core.jobs import run_slot
from core.mail_outbox import send_due
from directory import services, verification
from directory.jobs import JOBS, flag_overdue, send_verification_requests
from directory.models import (
    Address,
    ChangeRequest,
    Language,
    Location,
    Organization,
    VerificationRequest,
)
from tests.accounts.conftest import Inbox, free_port

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # the frozen clock of the job tests
STREET = "Verborgen Hof 4"
LINK = re.compile(r"https://liaison\.example\.org/verify/(\S+)")


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


@pytest.fixture
def settings(settings, smtp):
    """The test settings, sending mail to the test SMTP server."""
    return settings.replace(
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        base_url="https://liaison.example.org",
        mail_send_in_web=True,  # queued e-mail goes out right after each commit
    )


@pytest.fixture
def inbox(smtp):
    return smtp[1]


@pytest.fixture
def database(app):
    return app.extensions["liaison.db"]


def organisation(ref, name, org_type, interval, due, **extra):
    return Organization(
        ref=ref, name=name, country="BE", org_type=org_type, visibility="public",
        is_published=True, description={"en": name}, name_i18n={},
        review_interval_days=interval, next_review_on=due, **extra,
    )  # fmt: skip


@pytest.fixture
def orgs(db_session):
    """A shelter due within the lead time, police not due, and a due one nobody can answer."""
    made = {
        "shelter": organisation(
            "be-kompas", "Kompas", "specialised_victim_centre", 180, NOW.date() + timedelta(10)
        ),
        "police": organisation("be-police", "Politie", "police", 365, NOW.date() + timedelta(400)),
        "lonely": organisation("be-alone", "Alleen", "ngo_other", 365, NOW.date() + timedelta(3)),
    }
    made["shelter"].locations = [
        Location(
            visibility="network",
            addresses=[Address(address_1=STREET, country="BE", visibility="secretariat")],
        )
    ]
    db_session.add_all(made.values())
    db_session.commit()
    return made


@pytest.fixture
def people(make_user, orgs):
    return {
        "contact": make_user(Role.CONTACT_POINT, organizations=[orgs["shelter"]]),
        "editor": make_user(Role.ORG_EDITOR, organizations=[orgs["shelter"]]),
        "member": make_user(Role.MEMBER, organizations=[orgs["shelter"]]),
        "stranger": make_user(Role.CONTACT_POINT, organizations=[orgs["police"]]),
        "secretariat": make_user(Role.SECRETARIAT),
    }


def text_of(message: dict) -> str:
    """The decoded text of a received e-mail (its transfer encoding undone)."""
    parsed = email.message_from_string(message["body"], policy=email.policy.default)
    return parsed.get_body().get_content()


def links(inbox) -> list[str]:
    return [LINK.search(text_of(m)).group(1) for m in inbox.messages]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# -- the job ------------------------------------------------------------------------------------


def test_the_job_emails_each_due_organisations_contact_points_once_per_review_period(
    settings, database, inbox, people, orgs, db_session
):
    assert send_verification_requests(settings, database, NOW) == 1
    inbox.wait_for(2)
    assert sorted(m["to"][0] for m in inbox.messages) == sorted(
        [people["contact"].email, people["editor"].email]
    )
    body = text_of(inbox.messages[0])
    assert "Kompas" in body
    assert "11 March 2027" in body  # the due day, written out in the e-mail's language
    assert STREET not in body
    # Later runs, by the same or another process, ask nobody again in this period.
    for later in (NOW, NOW + timedelta(hours=1), NOW + timedelta(days=5)):
        assert send_verification_requests(settings, database, later) == 0
    assert len(inbox.wait_for(3, timeout=0.5)) == 2
    requests = db_session.scalars(select(VerificationRequest)).all()
    assert [(r.organization_id, r.due_on) for r in requests] == [
        (orgs["shelter"].id, NOW.date() + timedelta(10))
    ]
    assert requests[0].expires_at == NOW + timedelta(days=settings.verification_link_days)
    # Confirmed, the entry's next period starts; the job asks again 14 days before it is due.
    verification.use_link(db_session, people["contact"], requests[0], NOW + timedelta(days=1))
    db_session.commit()
    assert orgs["shelter"].next_review_on == NOW.date() + timedelta(days=181)
    assert send_verification_requests(settings, database, NOW + timedelta(days=160)) == 0
    assert send_verification_requests(settings, database, NOW + timedelta(days=168)) == 1
    assert len(inbox.wait_for(4)) == 4


def test_the_registered_job_runs_once_per_slot_whichever_worker_claims_it(
    settings, database, inbox, people, orgs
):
    job = next(j for j in JOBS if j.name == "directory-verification-requests")
    ran = [run_slot(job, settings, database, f"worker-{n}", now=NOW) for n in range(3)]
    assert ran == [True, False, False]
    assert len(inbox.wait_for(2)) == 2


def test_a_request_is_claimed_once_per_organisation_and_due_day(db_session, orgs):
    first = verification.claim_request(db_session, orgs["shelter"], NOW, 30)
    db_session.commit()
    assert first is not None
    assert verification.claim_request(db_session, orgs["shelter"], NOW, 30) is None


def test_an_organisation_without_contact_points_is_left_unclaimed_until_one_joins(
    settings, database, inbox, orgs, make_user, db_session
):
    assert send_verification_requests(settings, database, NOW) == 0
    make_user(Role.CONTACT_POINT, organizations=[orgs["lonely"]])
    assert send_verification_requests(settings, database, NOW) == 1
    assert len(inbox.wait_for(1)) == 1


def test_a_failed_delivery_keeps_the_emails_queued_until_the_server_answers(
    settings, database, inbox, people, orgs, db_session
):
    unreachable = settings.replace(smtp_port=free_port(), mail_retry_seconds=0)
    job_database = Database(settings.database_url)  # a jobs process: no after-commit sender
    try:
        assert send_verification_requests(unreachable, job_database, NOW) == 1
        assert send_due(unreachable, job_database) == 0
        assert inbox.messages == []
        assert len(db_session.scalars(select(VerificationRequest)).all()) == 1
        assert send_verification_requests(settings, job_database, NOW) == 0  # not asked twice
        assert send_due(settings, job_database) == 2
    finally:
        job_database.dispose()
    assert len(inbox.wait_for(2)) == 2


# -- the link -------------------------------------------------------------------------------------


@pytest.fixture
def token(settings, database, inbox, people, orgs, db_session):
    """The link token of a request sent now (real time: the pages use the real clock)."""
    orgs["shelter"].next_review_on = utcnow().date() + timedelta(days=5)
    db_session.commit()
    assert send_verification_requests(settings, database, utcnow()) == 1
    inbox.wait_for(2)
    return links(inbox)[0]


def test_a_valid_link_confirms_the_entry_for_a_signed_in_contact_point(
    app, client, sign_in, token, people, orgs, db_session
):
    sign_in(client, people["contact"])
    page = client.get(f"/verify/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Confirm: the entry is current" in html
    assert f'href="/organisations/be-kompas/propose?verification={token}"' in html
    response = client.post(f"/verify/{token}", data={"csrf_token": csrf_of(html)})
    assert response.status_code == 303
    db_session.expire_all()
    shelter = db_session.get(Organization, orgs["shelter"].id)
    today = verification.brussels_day(utcnow())
    assert shelter.verification_status == "verified"
    assert verification.brussels_day(shelter.last_verified_at) == today
    assert shelter.next_review_on == today + timedelta(days=180)
    request = db_session.scalars(select(VerificationRequest)).one()
    assert (request.used_by, request.outcome) == (people["contact"].id, "confirmed")
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.organization_id == shelter.id)
    ).all()
    assert ("confirmed", people["contact"].id) in {(e.action, e.actor_id) for e in entries}
    assert ("verification_status", "verified") in {(e.field, e.new_value) for e in entries}
    # Single use: the same link now says so, and changes nothing.
    again = client.get(f"/verify/{token}")
    assert again.status_code == 410
    assert "This link was already used" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
        lambda t: t.split(".")[0] + "." + str(int(t.split(".")[1]) + 86400) + "." + t.split(".")[2],
        lambda t: "not-a-link",
    ],
    ids=["signature", "expiry", "garbage"],
)
def test_a_tampered_link_is_refused_with_a_clear_page(
    client, sign_in, token, people, orgs, db_session, tamper
):
    sign_in(client, people["contact"])
    csrf = csrf_of(client.get("/proposals").get_data(as_text=True))
    for response in (
        client.get(f"/verify/{tamper(token)}"),
        client.post(f"/verify/{tamper(token)}", data={"csrf_token": csrf}),
    ):
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Organization, orgs["shelter"].id).verification_status == "unverified"


def test_an_expired_link_is_refused_with_a_clear_page(
    client, sign_in, settings, database, inbox, people, orgs, db_session
):
    long_ago = utcnow() - timedelta(days=40)
    orgs["shelter"].next_review_on = long_ago.date() + timedelta(days=10)
    db_session.commit()
    send_verification_requests(settings, database, long_ago)  # the link expired 10 days ago
    inbox.wait_for(1)
    sign_in(client, people["contact"])
    response = client.get(f"/verify/{links(inbox)[0]}")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_the_link_alone_changes_nothing_and_other_people_cannot_confirm(
    app, client, sign_in, token, people, orgs, db_session
):
    anonymous = client.get(f"/verify/{token}")
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"].startswith("/login?next=/verify/")
    for who in ("stranger", "member"):
        other = app.test_client()
        csrf = sign_in(other, people[who])
        assert other.get(f"/verify/{token}").status_code == 403
        assert other.post(f"/verify/{token}", data={"csrf_token": csrf}).status_code == 403
    db_session.expire_all()
    assert db_session.scalars(select(VerificationRequest)).one().used_at is None
    assert db_session.get(Organization, orgs["shelter"].id).verification_status == "unverified"


def test_proposing_corrections_from_the_link_answers_it(
    client, sign_in, token, people, orgs, db_session
):
    sign_in(client, people["contact"])
    form = client.get(f"/organisations/be-kompas/propose?verification={token}")
    html = form.get_data(as_text=True)
    assert f'name="verification" value="{token}"' in html
    data = {
        "csrf_token": csrf_of(html), "verification": token, "name": "Kompas",
        "city": "Oostende", "description_en": "Kompas",
    }  # fmt: skip
    assert client.post("/organisations/be-kompas/propose", data=data).status_code == 303
    db_session.expire_all()
    request = db_session.scalars(select(VerificationRequest)).one()
    assert request.outcome == "corrected"
    proposal = db_session.scalars(select(ChangeRequest)).one()
    assert proposal.changes["city"] == "Oostende"
    assert db_session.get(Organization, orgs["shelter"].id).verification_status == "verified"


# -- overdue ------------------------------------------------------------------------------------


def test_overdue_entries_are_flagged_to_the_secretariat_once_a_day(
    settings, database, inbox, people, orgs, db_session
):
    orgs["police"].next_review_on = NOW.date() - timedelta(days=3)
    db_session.commit()
    job = next(j for j in JOBS if j.name == "directory-verification-overdue")
    assert [run_slot(job, settings, database, f"w{n}", now=NOW) for n in range(3)] == [
        True, False, False,
    ]  # fmt: skip
    (digest,) = inbox.wait_for(1)
    assert digest["to"] == [people["secretariat"].email]
    text = text_of(digest)
    assert "Politie" in text
    assert "Kompas" not in text
    assert "https://liaison.example.org/secretariat/verification" in text
    db_session.expire_all()
    assert db_session.get(Organization, orgs["police"].id).verification_status == "needs_review"
    assert flag_overdue(settings, database, NOW + timedelta(days=1)) == 1  # the next day's digest
    assert len(inbox.wait_for(2)) == 2


def test_overdue_entries_are_listed_for_the_secretariat_and_stale_for_members_only(
    app, client, sign_in, people, orgs, db_session
):
    orgs["police"].next_review_on = utcnow().date() - timedelta(days=3)
    orgs["police"].last_verified_at = datetime(2025, 6, 2, 10, tzinfo=UTC)
    db_session.commit()
    secretariat = app.test_client()
    sign_in(secretariat, people["secretariat"])
    html = secretariat.get("/secretariat/verification").get_data(as_text=True)
    assert f'id="overdue-{orgs["police"].id}"' in html
    assert f'id="overdue-{orgs["shelter"].id}"' not in html
    assert 'id="overdue-count"' in html

    stale = "Stale — last verified on 2 June 2025"
    public = app.test_client()
    assert stale not in public.get("/organisations/be-police").get_data(as_text=True)
    assert stale not in public.get("/organisations").get_data(as_text=True)
    sign_in(client, people["contact"])
    assert stale in client.get("/organisations/be-police").get_data(as_text=True)
    assert stale in client.get("/organisations").get_data(as_text=True)
    assert "Stale" not in client.get("/organisations/be-kompas").get_data(as_text=True)


# -- review intervals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_type", "days"),
    [("specialised_victim_centre", 180), ("protected_reception", 180), ("police", 365)],
)
def test_a_new_organisation_gets_the_review_interval_of_its_type(db_session, org_type, days):
    created = services.create_organization(
        db_session, None,
        {"name": "Nieuw", "country": "BE", "org_type": org_type, "visibility": "network",
         "description": {"en": "New."}},
    )  # fmt: skip
    assert created.review_interval_days == days
    assert created.next_review_on == verification.brussels_day(utcnow()) + timedelta(days=days)


def test_the_secretariat_can_change_the_review_interval(db_session, orgs):
    services.update_organization(db_session, None, orgs["police"].id, {"review_interval_days": 90})
    assert orgs["police"].review_interval_days == 90


def test_a_link_is_used_once_even_when_two_confirmations_race(database, db_session, people, orgs):
    request = verification.claim_request(db_session, orgs["shelter"], NOW, 30)
    db_session.commit()
    with database.session() as other:  # a second request read the link before the first click
        seen_by_other = other.get(VerificationRequest, request.id)
        editor = other.get(type(people["editor"]), people["editor"].id)
        assert seen_by_other.used_at is None
        verification.use_link(db_session, people["contact"], request, NOW)
        db_session.commit()
        with pytest.raises(verification.LinkRefused):
            verification.use_link(other, editor, seen_by_other, NOW)
    db_session.expire_all()
    assert db_session.get(VerificationRequest, request.id).used_by == people["contact"].id


def test_verification_requests_are_written_in_each_contact_points_language(
    settings, database, inbox, people, orgs, db_session
):
    """The person's own language when set, else the entry's first working language."""
    people["contact"].locale = "de"
    people["editor"].locale = None
    orgs["shelter"].languages = [Language(code="fr", position=0), Language(code="nl", position=1)]
    db_session.commit()
    assert send_verification_requests(settings, database, NOW) == 1
    inbox.wait_for(2)
    by_person = {m["to"][0]: m for m in inbox.messages}
    german = email.message_from_string(
        by_person[people["contact"].email]["body"], policy=email.policy.default
    )
    french = email.message_from_string(
        by_person[people["editor"].email]["body"], policy=email.policy.default
    )
    assert german["Subject"] == "Stimmt Ihr Eintrag im Liaison-Verzeichnis noch?"
    assert "11. März 2027" in german.get_body().get_content()
    assert french["Subject"] == "Votre fiche dans l'annuaire Liaison est-elle toujours correcte ?"
    assert "11 mars 2027" in french.get_body().get_content()
    for message in (german, french):
        assert "Is your Liaison directory entry" not in message.get_body().get_content()

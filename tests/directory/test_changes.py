"""Change requests: a contact point proposes, the secretariat reviews and decides, the proposer is
told; an approved change lands in the audit history and the search index like a secretariat edit.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from accounts.models import Role
from core.audit import AuditEntry
from core.db import utcnow
from core.outbox import enqueue
from directory import changes
from directory.errors import InvalidDirectoryInput
from directory.models import Address, ChangeRequest, Location, Organization, Phone
from directory.verification import NotAllowed
from search.query import SearchQuery
from tests.accounts.conftest import Inbox, free_port
from tests.search.conftest import wait_until

STREET = "Verborgen Hof 4"  # a secretariat-only street address: never in an e-mail


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
    port, _handler = smtp
    return settings.replace(
        smtp_host="127.0.0.1",
        smtp_port=port,
        base_url="https://liaison.example.org",
        mail_send_in_web=True,  # queued e-mail goes out right after each commit
    )


@pytest.fixture
def inbox(smtp):
    return smtp[1]


def parsed(message: dict) -> email.message.EmailMessage:
    return email.message_from_string(message["body"], policy=email.policy.default)


@pytest.fixture
def shelter(db_session):
    organization = Organization(
        ref="be-kompas",
        name="Kompas",
        country="BE",
        city="Brugge",
        org_type="specialised_victim_centre",
        visibility="public",
        is_published=True,
        description={"en": "A shelter in Brugge.", "nl": "Een opvanghuis in Brugge."},
        name_i18n={},
    )
    organization.phones = [Phone(number="+3250000001", visibility="network")]
    organization.locations = [
        Location(
            visibility="network",
            addresses=[
                Address(address_1=STREET, city="Brugge", country="BE", visibility="secretariat")
            ],
        )
    ]
    db_session.add(organization)
    db_session.flush()
    enqueue(db_session, organization.id)
    db_session.commit()
    return organization


@pytest.fixture
def other(db_session):
    organization = Organization(
        ref="nl-baken", name="Baken", country="NL", org_type="ngo_other", visibility="network",
        description={"en": "An NGO."}, name_i18n={},
    )  # fmt: skip
    db_session.add(organization)
    db_session.commit()
    return organization


@pytest.fixture
def people(make_user, shelter, other):
    return {
        "contact": make_user(Role.CONTACT_POINT, organizations=[shelter]),
        "editor": make_user(Role.ORG_EDITOR, organizations=[shelter]),
        "member": make_user(Role.MEMBER, organizations=[shelter]),
        "stranger": make_user(Role.CONTACT_POINT, organizations=[other]),
        "secretariat": make_user(Role.SECRETARIAT),
    }


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def form_of(html: str) -> dict[str, object]:
    """The proposal form's current values, as a browser would post them unchanged."""
    data: dict[str, object] = {}
    for name, value in re.findall(
        r'<input type="(?:text|url|email|tel)" id="f-[^"]+" name="([^"]+)" value="([^"]*)"', html
    ):
        data[name] = value
    for name, text in re.findall(
        r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html
    ):
        data[name] = text
    for name, value in re.findall(r'name="([^"]+)" value="([^"]+)" checked', html):
        data.setdefault(name, []).append(value)  # type: ignore[union-attr]
    for name in re.findall(r'<input type="checkbox" id="f-[^"]+" name="([^"]+)" checked', html):
        data[name] = "on"
    data["csrf_token"] = csrf_of(html)
    return data


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


# -- the must-show: proposal → approval → audit history → search index --------------------------


def test_a_change_request_flows_from_proposal_to_approval_to_the_audit_history_and_the_search_index(
    app, client, sign_in, people, shelter, inbox, db_session
):
    search = app.extensions["liaison.search"]
    search.drain()
    assert [h.ref for h in search.search(SearchQuery(text="Vuurtoren")).hits] == []

    # The contact point proposes a new name and a French description from the organisation page.
    sign_in(client, people["contact"])
    page = client.get("/organisations/be-kompas").get_data(as_text=True)
    assert 'href="/organisations/be-kompas/propose"' in page
    form = client.get("/organisations/be-kompas/propose").get_data(as_text=True)
    data = {key: value for key, value in form_of(html_unescape(form)).items()}
    assert data["name"] == "Kompas"
    assert data["phone"] == "+3250000001"
    data.update(name="Vuurtoren Brugge", description_fr="Un refuge à Bruges.")
    data["proposer_note"] = "New name since June."
    response = client.post("/organisations/be-kompas/propose", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    proposal = db_session.scalars(select(ChangeRequest)).one()
    assert proposal.changes == {"name": "Vuurtoren Brugge", "description.fr": "Un refuge à Bruges."}
    assert proposal.base == {"name": "Kompas", "description.fr": None}
    mine = client.get("/proposals").get_data(as_text=True)
    assert f'id="proposal-{proposal.id}" data-status="pending"' in mine
    # Nothing changes in the directory before the secretariat decides.
    db_session.expire_all()
    assert db_session.get(Organization, shelter.id).name == "Kompas"

    # The secretariat reviews the side-by-side diff and approves with a note.
    secretariat = app.test_client()
    sign_in(secretariat, people["secretariat"])
    queue = secretariat.get("/secretariat/changes").get_data(as_text=True)
    assert f'id="change-{proposal.id}"' in queue
    review = secretariat.get(f"/secretariat/changes/{proposal.id}").get_data(as_text=True)
    row = re.search(r'<tr id="diff-name">(.*?)</tr>', review, re.S).group(1)
    assert '<th scope="row">Name' in row
    assert "<del>Kompas</del>" in row
    assert "<ins>Vuurtoren Brugge</ins>" in row
    response = secretariat.post(
        f"/secretariat/changes/{proposal.id}/approve",
        data={"csrf_token": csrf_of(review), "review_note": "Thanks, applied.",
              "current": re.search(r'name="current" value="([^"]+)"', review).group(1)},
    )  # fmt: skip
    assert response.status_code == 303

    # Applied, with an audit entry per field by the reviewer, and the decision recorded.
    db_session.expire_all()
    organization = db_session.get(Organization, shelter.id)
    assert organization.name == "Vuurtoren Brugge"
    assert organization.description["fr"] == "Un refuge à Bruges."
    assert organization.description["nl"] == "Een opvanghuis in Brugge."
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.organization_id == shelter.id)
    ).all()
    fields = {(e.action, e.field, e.old_value, e.new_value, e.actor_id) for e in entries}
    assert ("update", "name", "Kompas", "Vuurtoren Brugge", people["secretariat"].id) in fields
    assert (
        "update",
        "description.fr",
        None,
        "Un refuge à Bruges.",
        people["secretariat"].id,
    ) in fields
    assert {e.action for e in entries} >= {"propose", "approve"}
    history = secretariat.get(f"/secretariat/organisations/{shelter.id}/history")
    assert "Vuurtoren Brugge" in history.get_data(as_text=True)
    assert "Approved" in history.get_data(as_text=True)

    # The search index follows through the outbox: the new name is found, the old one is not.
    search.drain()
    assert wait_until(
        lambda: [h.ref for h in search.search(SearchQuery(text="Vuurtoren")).hits] == ["be-kompas"],
        timeout=15.0,
    )
    assert [h.ref for h in search.search(SearchQuery(text="Kompas", prefix=False)).hits] == []

    # The proposer is told by e-mail, with the note, and sees the decision on their page.
    messages = inbox.wait_for(1)
    assert len(messages) == 1
    assert messages[0]["to"] == [people["contact"].email]
    body = parsed(messages[0]).get_body().get_content()
    assert "approved" in body
    assert "Thanks, applied." in body
    assert "Vuurtoren Brugge" in body
    assert f"https://liaison.example.org/proposals/{proposal.id}" in body
    assert STREET not in messages[0]["body"]
    mine = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert 'data-status="approved"' in mine
    assert "Thanks, applied." in mine


# -- the services -----------------------------------------------------------------------------


def proposal_values(**changed):
    values = {"name": "Kompas", "city": "Brugge"}
    values.update(changed)
    return values


def test_only_the_organisations_contact_points_and_editors_may_propose(db_session, people, shelter):
    for who in ("contact", "editor"):
        changes.propose(db_session, people[who], shelter.id, proposal_values(city=f"Gent {who}"))
    for who in ("member", "stranger", "secretariat"):
        with pytest.raises(NotAllowed):
            changes.propose(db_session, people[who], shelter.id, proposal_values(city="Gent"))


def test_a_proposal_is_checked_with_the_secretariat_forms_rules_and_changes_nothing(
    db_session, people, shelter
):
    with pytest.raises(InvalidDirectoryInput) as refused:
        changes.propose(
            db_session, people["contact"], shelter.id,
            {"email": "not an address", "website": "ftp://x", "name": "", "phone": "12"},
        )  # fmt: skip
    assert set(refused.value.errors) == {"email", "website", "name", "phone"}
    db_session.rollback()
    assert db_session.scalars(select(ChangeRequest)).all() == []


def test_an_unchanged_proposal_is_refused(db_session, people, shelter):
    with pytest.raises(changes.NothingToChange):
        changes.propose(db_session, people["contact"], shelter.id, proposal_values())


def test_secretariat_only_fields_are_not_proposable(db_session, people, shelter):
    proposal = changes.propose(
        db_session, people["contact"], shelter.id,
        {"city": "Gent", "visibility": "secretariat", "is_published": False,
         "review_interval_days": 9, "verification_status": "verified"},
    )  # fmt: skip
    assert proposal.changes == {"city": "Gent"}
    db_session.commit()
    changes.approve(db_session, people["secretariat"], proposal.id, now=utcnow())
    db_session.commit()
    assert (shelter.visibility, shelter.is_published) == ("public", True)


def test_a_secretariat_only_phone_is_left_to_the_secretariat(db_session, people, shelter):
    shelter.phones[0].visibility = "secretariat"
    db_session.commit()
    assert "phone" not in changes.proposable_fields(shelter)
    with pytest.raises(changes.NothingToChange):
        changes.propose(db_session, people["contact"], shelter.id, {"phone": "+3250999999"})


def test_a_field_changed_since_the_proposal_is_a_conflict_until_the_reviewer_confirms_it(
    db_session, people, shelter
):
    from directory import services

    proposal = changes.propose(db_session, people["contact"], shelter.id, {"city": "Gent"})
    db_session.commit()
    services.update_organization(
        db_session, people["secretariat"].id, shelter.id, {"city": "Oostende"}
    )
    db_session.commit()
    (row,) = changes.diff(db_session, proposal)
    assert (row.base, row.current, row.proposed, row.conflict) == (
        "Brugge",
        "Oostende",
        "Gent",
        True,
    )

    with pytest.raises(changes.ChangeConflict):
        changes.approve(db_session, people["secretariat"], proposal.id, now=utcnow())
    db_session.rollback()
    assert shelter.city == "Oostende"
    assert proposal.status == "pending"
    seen = changes.review_fingerprint(db_session, proposal)
    # It changes again after the reviewer looked: the confirmation no longer holds.
    services.update_organization(
        db_session, people["secretariat"].id, shelter.id, {"city": "Ieper"}
    )
    db_session.commit()
    with pytest.raises(changes.ChangeConflict):
        changes.approve(
            db_session, people["secretariat"], proposal.id, confirmed=seen, now=utcnow()
        )
    db_session.rollback()
    seen = changes.review_fingerprint(db_session, proposal)
    changes.approve(db_session, people["secretariat"], proposal.id, confirmed=seen, now=utcnow())
    db_session.commit()
    assert shelter.city == "Gent"
    assert proposal.status == "approved"


def test_a_decided_proposal_cannot_be_decided_or_withdrawn_again(db_session, people, shelter):
    proposal = changes.propose(db_session, people["contact"], shelter.id, {"city": "Gent"})
    changes.reject(
        db_session, people["secretariat"], proposal.id, note="Still Brugge.", now=utcnow()
    )
    db_session.commit()
    with pytest.raises(changes.NotPending):
        changes.approve(db_session, people["secretariat"], proposal.id, now=utcnow())
    with pytest.raises(changes.NotPending):
        changes.withdraw(db_session, people["contact"], proposal.id, utcnow())
    assert shelter.city == "Brugge"


def test_rejecting_needs_a_note_and_only_the_secretariat_decides(db_session, people, shelter):
    proposal = changes.propose(db_session, people["contact"], shelter.id, {"city": "Gent"})
    with pytest.raises(InvalidDirectoryInput):
        changes.reject(db_session, people["secretariat"], proposal.id, note=" ", now=utcnow())
    for who in ("contact", "editor"):
        with pytest.raises(NotAllowed):
            changes.approve(db_session, people[who], proposal.id, now=utcnow())
    assert proposal.status == "pending"


def test_only_the_proposer_withdraws(db_session, people, shelter):
    proposal = changes.propose(db_session, people["contact"], shelter.id, {"city": "Gent"})
    with pytest.raises(changes.ChangeRequestNotFound):
        changes.withdraw(db_session, people["editor"], proposal.id, utcnow())
    changes.withdraw(db_session, people["contact"], proposal.id, utcnow() + timedelta(minutes=1))
    assert proposal.status == "withdrawn"


def test_working_languages_and_flags_are_proposed_and_applied(db_session, people, shelter):
    proposal = changes.propose(
        db_session, people["contact"], shelter.id,
        {"languages": ["nl", "fr"], "is_24_7": True, "accepts_cross_border_referrals": False,
         "emergency_phone": "+32 50 00 00 99"},
    )  # fmt: skip
    assert proposal.changes == {
        "languages": ["nl", "fr"], "is_24_7": True, "emergency_phone": "+3250000099",
    }  # fmt: skip
    changes.approve(db_session, people["secretariat"], proposal.id, now=utcnow())
    db_session.commit()
    assert set(shelter.language_codes) == {"nl", "fr"}
    assert shelter.is_24_7
    emergency = [p for p in shelter.phones if p.is_emergency]
    assert [(p.number, p.visibility) for p in emergency] == [("+3250000099", "network")]

"""The change-request pages: every route checks role and organisation, bad input is refused with
the form shown again, conflicts are shown before anything is applied, and the backup-contact flag.
"""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from accounts.models import Role
from core.audit import AuditEntry
from directory import changes, services
from directory.models import ChangeRequest, Contact, Organization
from tests.accounts.conftest import Inbox, free_port


@pytest.fixture
def smtp():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


@pytest.fixture
def settings(settings, smtp):
    return settings.replace(
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        base_url="https://liaison.example.org",
        mail_send_in_web=True,  # queued e-mail goes out right after each commit
    )


@pytest.fixture
def inbox(smtp):
    return smtp[1]


def make_org(ref, name, visibility="public"):
    return Organization(
        ref=ref, name=name, country="BE", city="Gent", org_type="ngo_other",
        visibility=visibility, is_published=True, description={"en": name}, name_i18n={},
    )  # fmt: skip


@pytest.fixture
def orgs(db_session):
    made = {
        "own": make_org("be-own", "Eigen"),
        "other": make_org("be-other", "Ander"),
        "hidden": make_org("be-hidden", "Verborgen", visibility="secretariat"),
    }
    made["own"].contacts = [Contact(title={"en": "Intake"}, email="in@own.example.org")]
    db_session.add_all(made.values())
    db_session.commit()
    return made


@pytest.fixture
def people(make_user, orgs):
    return {
        "contact": make_user(Role.CONTACT_POINT, organizations=[orgs["own"], orgs["hidden"]]),
        "member": make_user(Role.MEMBER, organizations=[orgs["own"]]),
        "stranger": make_user(Role.CONTACT_POINT, organizations=[orgs["other"]]),
        "secretariat": make_user(Role.SECRETARIAT),
    }


@pytest.fixture
def proposal(db_session, people, orgs):
    request = changes.propose(db_session, people["contact"], orgs["own"].id, {"city": "Aalst"})
    db_session.commit()
    return request


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def client_for(app, sign_in, user):
    http = app.test_client()
    return http, sign_in(http, user)


def test_anonymous_visitors_are_sent_to_sign_in(client, orgs, proposal):
    for path in (
        "/organisations/be-own/propose",
        "/proposals",
        f"/proposals/{proposal.id}",
        "/verify/x.1.y",
        "/secretariat/changes",
        f"/secretariat/changes/{proposal.id}",
        "/secretariat/verification",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_only_the_organisations_contact_points_may_open_the_proposal_form(
    app, sign_in, people, orgs
):
    cases = [
        ("contact", "be-own", 200),
        ("contact", "be-hidden", 200),  # their own organisation, even if secretariat-only
        ("member", "be-own", 403),  # a member without the contact-point role
        ("stranger", "be-own", 403),  # a contact point of another organisation
        ("stranger", "be-hidden", 404),  # not even its existence is shown
        ("secretariat", "be-own", 403),  # the secretariat edits directly instead
        ("contact", "be-nowhere", 404),
    ]
    for who, ref, status in cases:
        http, csrf = client_for(app, sign_in, people[who])
        assert http.get(f"/organisations/{ref}/propose").status_code == status, (who, ref)
        posted = http.post(
            f"/organisations/{ref}/propose", data={"csrf_token": csrf, "city": "Aalst"}
        )
        assert posted.status_code == (422 if status == 200 else status), (who, ref)


def test_the_organisation_page_links_to_the_form_for_its_contact_points_only(
    app, sign_in, people, orgs
):
    link = 'href="/organisations/be-own/propose"'
    for who, shown in (("contact", True), ("member", False), ("stranger", False)):
        http, _ = client_for(app, sign_in, people[who])
        assert (link in http.get("/organisations/be-own").get_data(as_text=True)) is shown, who
    http, _ = client_for(app, sign_in, people["contact"])
    assert link in http.get("/proposals").get_data(as_text=True)
    assert 'href="/proposals"' in http.get("/account").get_data(as_text=True)


def test_a_refused_proposal_shows_the_form_again_and_stores_nothing(
    app, sign_in, people, orgs, db_session
):
    http, csrf = client_for(app, sign_in, people["contact"])
    response = http.post(
        "/organisations/be-own/propose",
        data={"csrf_token": csrf, "name": "Eigen", "email": "nope", "description_en": "Eigen"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert 'href="#f-email"' in html
    assert 'value="nope"' in html
    unchanged = http.post(
        "/organisations/be-own/propose",
        data={"csrf_token": csrf, "name": "Eigen", "city": "Gent", "description_en": "Eigen"},
    )
    assert unchanged.status_code == 422
    assert "Nothing differs from the entry as it stands." in unchanged.get_data(as_text=True)
    assert db_session.scalars(select(ChangeRequest)).all() == []


def test_people_see_and_withdraw_only_their_own_proposals(app, sign_in, people, proposal):
    http, csrf = client_for(app, sign_in, people["stranger"])
    assert http.get(f"/proposals/{proposal.id}").status_code == 404
    assert (
        http.post(f"/proposals/{proposal.id}/withdraw", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert proposal.id not in http.get("/proposals").get_data(as_text=True)
    http, csrf = client_for(app, sign_in, people["contact"])
    assert (
        http.post(f"/proposals/{proposal.id}/withdraw", data={"csrf_token": csrf}).status_code
        == 303
    )
    assert 'data-status="withdrawn"' in http.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    again = http.post(f"/proposals/{proposal.id}/withdraw", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_only_the_secretariat_reviews(app, sign_in, people, proposal, db_session):
    for who in ("contact", "member", "stranger"):
        http, csrf = client_for(app, sign_in, people[who])
        for path in (
            "/secretariat/changes",
            f"/secretariat/changes/{proposal.id}",
            "/secretariat/verification",
        ):
            assert http.get(path).status_code == 403, (who, path)
        for action in ("approve", "reject"):
            response = http.post(
                f"/secretariat/changes/{proposal.id}/{action}",
                data={"csrf_token": csrf, "review_note": "x"},
            )
            assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(ChangeRequest, proposal.id).status == "pending"


def test_rejecting_needs_a_note_and_tells_the_proposer_why(
    app, sign_in, people, orgs, proposal, inbox, db_session
):
    http, csrf = client_for(app, sign_in, people["secretariat"])
    url = f"/secretariat/changes/{proposal.id}/reject"
    empty = http.post(url, data={"csrf_token": csrf, "review_note": ""})
    assert empty.status_code == 422
    assert "Say why, so that the proposer can act on it." in empty.get_data(as_text=True)
    response = http.post(url, data={"csrf_token": csrf, "review_note": "Still in Gent."})
    assert response.status_code == 303
    (message,) = inbox.wait_for(1)
    assert message["to"] == [people["contact"].email]
    text = email.message_from_string(message["body"], policy=email.policy.default)
    body = text.get_body().get_content()
    assert "did not approve" in body
    assert "Still in Gent." in body
    db_session.expire_all()
    assert db_session.get(Organization, orgs["own"].id).city == "Gent"
    assert http.post(url, data={"csrf_token": csrf, "review_note": "x"}).status_code == 409


def test_a_secretariat_only_entrys_values_stay_out_of_the_decision_email(
    app, sign_in, people, orgs, inbox, db_session
):
    request = changes.propose(
        db_session, people["contact"], orgs["hidden"].id, {"city": "Geheimstad"}
    )
    db_session.commit()
    http, csrf = client_for(app, sign_in, people["secretariat"])
    review = http.get(f"/secretariat/changes/{request.id}").get_data(as_text=True)
    current = re.search(r'name="current" value="([^"]+)"', review).group(1)
    response = http.post(
        f"/secretariat/changes/{request.id}/approve",
        data={"csrf_token": csrf, "current": current},
    )
    assert response.status_code == 303
    (message,) = inbox.wait_for(1)
    assert "Geheimstad" not in message["body"]
    assert (
        "Town"
        in email.message_from_string(message["body"], policy=email.policy.default)
        .get_body()
        .get_content()
    )


def test_a_conflict_is_shown_and_must_be_confirmed_before_it_is_applied(
    app, sign_in, people, orgs, proposal, db_session
):
    services.update_organization(
        db_session, people["secretariat"].id, orgs["own"].id, {"city": "Ieper"}
    )
    db_session.commit()
    http, csrf = client_for(app, sign_in, people["secretariat"])
    review = http.get(f"/secretariat/changes/{proposal.id}").get_data(as_text=True)
    row = re.search(r'<tr id="diff-city" class="conflict">(.*?)</tr>', review, re.S).group(1)
    assert "Changed since the proposal" in row
    assert "<del>Gent</del>" in row
    assert "<td>Ieper</td>" in row
    assert "<ins>Aalst</ins>" in row
    assert 'name="confirm_conflicts"' in review
    current = re.search(r'name="current" value="([^"]+)"', review).group(1)
    url = f"/secretariat/changes/{proposal.id}/approve"
    refused = http.post(url, data={"csrf_token": csrf, "current": current})
    assert refused.status_code == 409
    assert "Not applied" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Organization, orgs["own"].id).city == "Ieper"
    applied = http.post(
        url, data={"csrf_token": csrf, "current": current, "confirm_conflicts": "on"}
    )
    assert applied.status_code == 303
    db_session.expire_all()
    assert db_session.get(Organization, orgs["own"].id).city == "Aalst"


def test_the_secretariat_navigation_counts_pending_proposals(app, sign_in, people, proposal):
    http, _ = client_for(app, sign_in, people["secretariat"])
    html = http.get("/secretariat/").get_data(as_text=True)
    count = re.search(r'id="pending-changes-count">(.*?)</span>\s*(\d+)', html)
    assert count is not None
    assert count.group(2) == "1"


def test_the_secretariat_marks_a_backup_contact(app, sign_in, people, orgs, db_session):
    http, csrf = client_for(app, sign_in, people["secretariat"])
    contact = orgs["own"].contacts[0]
    url = f"/secretariat/organisations/{orgs['own'].id}/contacts/{contact.id}"
    form = http.get(url).get_data(as_text=True)
    assert '<input type="checkbox" id="f-is_backup" name="is_backup"' in form
    assert '<label for="f-is_backup">Backup contact</label>' in form
    data = {"csrf_token": csrf, "title_en": "Intake", "email": "in@own.example.org",
            "visibility": "network", "is_backup": "on"}  # fmt: skip
    assert http.post(url, data=data).status_code == 303
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).is_backup is True
    listing = http.get(f"/secretariat/organisations/{orgs['own'].id}/contacts")
    assert "Backup contact" in listing.get_data(as_text=True)
    assert 'id="f-is_backup" name="is_backup" checked' in http.get(url).get_data(as_text=True)
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.field == "is_backup")).all()
    assert [(e.old_value, e.new_value) for e in entries] == [("false", "true")]
    data.pop("is_backup")
    assert http.post(url, data=data).status_code == 303
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).is_backup is False


def test_approving_a_change_of_working_languages_that_keeps_one_applies_it(
    app, sign_in, people, orgs, db_session
):
    # Keeping "nl" while adding "fr" once answered 500: the old "nl" row was deleted after the
    # new one was inserted, and the (organisation, code) unique constraint refused the insert.
    services.update_organization(db_session, None, orgs["own"].id, {"languages": ["nl", "en"]})
    db_session.commit()
    request = changes.propose(
        db_session, people["contact"], orgs["own"].id, {"languages": ["fr", "nl"]}
    )
    db_session.commit()
    http, csrf = client_for(app, sign_in, people["secretariat"])
    review = http.get(f"/secretariat/changes/{request.id}").get_data(as_text=True)
    current = re.search(r'name="current" value="([^"]+)"', review).group(1)
    response = http.post(
        f"/secretariat/changes/{request.id}/approve",
        data={"csrf_token": csrf, "current": current},
    )
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Organization, orgs["own"].id).language_codes == ["fr", "nl"]

"""An organisation hidden from a person (secretariat-only, or unpublished) does not exist for them:
every place that takes an organisation id answers for it exactly as for an unknown id."""

# ruff: noqa: F811 - the referral fixtures are imported by name

from __future__ import annotations

import uuid

import pytest

from accounts.models import Role
from directory.models import Organization
from tests.messaging.conftest import sealed
from tests.messaging.referral_fixtures import (  # noqa: F401 - cast is a fixture
    cast,
    referral_envelope,
    referral_post,
)

SHELTER = "Huis van Vertrouwen"


def _hide(db_session, how: str) -> Organization:
    shelter = Organization(
        ref="be-hidden-shelter",
        name=SHELTER,
        country="BE",
        org_type="shelter",
        accepts_cross_border_referrals=True,
        visibility="secretariat" if how == "secretariat" else "network",
        is_published=how != "unpublished",
    )
    db_session.add(shelter)
    db_session.commit()
    return shelter


def _answer(response) -> tuple[int, dict]:
    body = response.get_json()
    return response.status_code, body


@pytest.mark.parametrize("how", ["secretariat", "unpublished"])
def test_redirecting_to_a_hidden_organisation_answers_as_for_an_unknown_id(cast, db_session, how):
    shelter = _hide(db_session, how)
    referral_id = cast.send()
    cast.status(cast.intake, referral_id, "acknowledged")

    hidden = cast.status(cast.intake, referral_id, "redirected", redirect_to=shelter.id)
    unknown = cast.status(cast.intake, referral_id, "redirected", redirect_to=str(uuid.uuid4()))
    after = cast.intake.get(f"/api/v1/referrals/{referral_id}")

    assert _answer(hidden) == _answer(unknown)
    assert hidden.status_code == 422
    assert hidden.get_json()["check"] == "unknown-organisation"
    assert SHELTER not in hidden.get_data(as_text=True)
    assert after.get_json()["status"] == "acknowledged"  # nothing changed
    assert after.get_json()["redirected_to"] is None


def test_the_secretariat_may_redirect_to_a_secretariat_only_organisation(
    cast, db_session, make_person
):
    shelter = _hide(db_session, "secretariat")
    referral_id = cast.send()
    editor = make_person("B", Role.SECRETARIAT)
    cast.status(editor, referral_id, "acknowledged")

    done = cast.status(editor, referral_id, "redirected", redirect_to=shelter.id)

    assert done.status_code == 200
    assert done.get_json()["redirected_to"]["name"] == SHELTER


def test_the_redirect_form_does_not_offer_a_hidden_organisation(cast, db_session):
    shelter = _hide(db_session, "secretariat")
    referral_id = cast.send()
    cast.status(cast.intake, referral_id, "acknowledged")

    html = cast.intake.get("/referrals").get_data(as_text=True)
    pressed = cast.intake.http.post(
        f"/referrals/{referral_id}/status",
        data={"csrf_token": cast.intake.csrf, "status": "redirected", "redirect_to": shelter.id},
    )
    after = cast.intake.get("/referrals").get_data(as_text=True)

    assert f'<option value="{cast.c.id}">InfoTraite (LU)</option>' in html
    assert shelter.id not in html
    assert SHELTER not in html
    assert pressed.status_code == 303
    assert "That organisation is not in the directory." in after
    assert SHELTER not in after


@pytest.mark.parametrize("how", ["secretariat", "unpublished"])
def test_a_referral_to_a_hidden_organisation_answers_as_for_an_unknown_id(
    cast, db_session, make_person, how
):
    shelter = _hide(db_session, how)
    staff = make_person("B")
    # the shelter's contact point (staff of B moved there) exists and has a key
    staff.user.organizations = [shelter]
    db_session.merge(staff.user)
    db_session.commit()

    def send(to_org: str):
        envelope = referral_envelope(cast.sender, staff, to_org=to_org)
        return cast.sender.post("/api/v1/messages", json=referral_post(envelope))

    hidden = send(shelter.id)
    unknown = send(str(uuid.uuid4()))

    assert (hidden.status_code, hidden.get_json()["check"]) == (422, "unknown-organisation")
    assert _answer(hidden) == _answer(unknown)


@pytest.mark.parametrize("how", ["secretariat", "unpublished"])
def test_the_recipients_of_a_hidden_organisation_are_not_found(cast, db_session, how):
    shelter = _hide(db_session, how)

    hidden = cast.sender.get(f"/api/v1/organizations/{shelter.id}/recipients")
    unknown = cast.sender.get(f"/api/v1/organizations/{uuid.uuid4()}/recipients")

    assert hidden.status_code == 404
    assert _answer(hidden) == _answer(unknown)


@pytest.mark.parametrize("how", ["secretariat", "unpublished"])
def test_a_message_naming_a_hidden_organisation_answers_as_for_an_unknown_id(
    cast, db_session, make_person, how
):
    shelter = _hide(db_session, how)
    editor = make_person("A", Role.SECRETARIAT)
    own = make_person("B")
    own.user.organizations = [shelter]
    db_session.merge(own.user)
    db_session.commit()

    hidden = cast.sender.post(
        "/api/v1/messages", json=sealed(cast.sender, cast.intake, to_org=shelter.id)
    )
    unknown = cast.sender.post(
        "/api/v1/messages", json=sealed(cast.sender, cast.intake, to_org=str(uuid.uuid4()))
    )
    by_the_secretariat = editor.post(
        "/api/v1/messages", json=sealed(editor, own, to_org=shelter.id)
    )
    by_its_own_people = own.post("/api/v1/messages", json=sealed(own, editor, to_org=shelter.id))

    assert (hidden.status_code, hidden.get_json()["check"]) == (422, "unknown-organisation")
    assert _answer(hidden) == _answer(unknown)
    assert by_the_secretariat.status_code == 201
    assert by_its_own_people.status_code == 201

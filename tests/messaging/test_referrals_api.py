"""Referrals through the relay API: posting (and every refusal), status changes, permissions."""

# ruff: noqa: F811 - the referral fixtures are imported by name

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from core.db import utcnow
from messaging.envelopes import parse_time
from messaging.models import Envelope, Referral, ReferralEvent
from tests.messaging.conftest import sealed
from tests.messaging.referral_fixtures import (
    cast,  # noqa: F401 - a fixture
    referral_envelope,
    referral_post,
)


def counts(db_session) -> tuple[int, int, int]:
    """(envelopes, referrals, referral events) stored."""
    db_session.expire_all()
    return tuple(  # type: ignore[return-value]
        db_session.scalar(select(func.count()).select_from(model))
        for model in (Envelope, Referral, ReferralEvent)
    )


# --- posting ---------------------------------------------------------------------------------


def test_posting_a_referral_stores_its_status_due_time_and_first_event(cast, db_session):
    before = utcnow()
    referral_id = cast.send("high")

    referral = db_session.get(Referral, referral_id)
    assert referral.status == "sent"
    assert (referral.from_org_id, referral.to_org_id) == (cast.a.id, cast.b.id)
    assert (referral.from_country, referral.to_country) == ("BE", "NL")
    assert referral.sender_id == cast.sender.id
    assert timedelta(hours=4) <= referral.ack_due_at - before < timedelta(hours=4, minutes=1)
    assert counts(db_session) == (1, 1, 1)
    listed = cast.intake.get("/api/v1/referrals?box=incoming").get_json()["referrals"]
    assert [(r["id"], r["status"], r["urgency"], r["overdue"]) for r in listed] == [
        (referral_id, "sent", "high", False)
    ]
    assert listed[0]["from_org"] == {"id": cast.a.id, "name": "Payoke", "country": "BE"}
    assert listed[0]["to_org"]["name"] == "CoMensha"
    assert listed[0]["thread"] == referral_id
    # the receiving contact point reads the encrypted form in the thread like any message
    assert cast.intake.get(f"/api/v1/messages/{referral_id}").status_code == 200


def test_normal_urgency_is_due_in_two_working_days(cast, db_session):
    referral_id = cast.send("normal")
    referral = db_session.get(Referral, referral_id)
    # two working days: at least 48 hours, at most 4 days (over a weekend)
    assert timedelta(hours=47) < referral.ack_due_at - referral.sent_at <= timedelta(days=4)


def test_reposting_the_same_referral_is_idempotent_and_records_it_once(cast, db_session):
    envelope = referral_envelope(cast.sender, cast.intake, to_org=cast.b.id)
    first = cast.sender.post("/api/v1/messages", json=referral_post(envelope))
    again = cast.sender.post("/api/v1/messages", json=referral_post(envelope))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["created"] is False
    assert counts(db_session) == (1, 1, 1)


def test_sender_with_several_organisations_names_one_of_them(cast, db_session, organisations):
    cast.sender.user.organizations.append(organisations["C"])
    db_session.commit()
    envelope = referral_envelope(cast.sender, cast.intake, to_org=cast.b.id)

    unnamed = cast.sender.post("/api/v1/messages", json=referral_post(envelope))
    foreign = cast.sender.post("/api/v1/messages", json=referral_post(envelope, from_org=cast.b.id))
    named = cast.sender.post("/api/v1/messages", json=referral_post(envelope, from_org=cast.c.id))

    assert (unnamed.status_code, unnamed.get_json()["check"]) == (422, "from-org-required")
    assert (foreign.status_code, foreign.get_json()["check"]) == (403, "not-your-organisation")
    assert named.status_code == 201
    assert db_session.get(Referral, named.get_json()["id"]).from_country == "LU"


@pytest.mark.parametrize(
    ("referral", "check"),
    [
        ({"urgency": "urgent"}, "bad-referral"),
        ({}, "bad-referral"),
        ({"urgency": "high", "case": "x"}, "bad-referral"),
        ({"urgency": "high", "from_org": 12}, "bad-referral"),
        ("high", "bad-referral"),
    ],
)
def test_malformed_referral_objects_are_refused(cast, db_session, referral, check):
    envelope = referral_envelope(cast.sender, cast.intake, to_org=cast.b.id)
    response = cast.sender.post(
        "/api/v1/messages", json={"envelope": envelope, "referral": referral}
    )
    assert (response.status_code, response.get_json()["check"]) == (400, check)
    assert counts(db_session) == (0, 0, 0)


def test_a_referral_without_its_referral_object_is_refused(cast, db_session):
    envelope = referral_envelope(cast.sender, cast.intake, to_org=cast.b.id)
    bare = cast.sender.post("/api/v1/messages", json=envelope)
    wrapped = cast.sender.post("/api/v1/messages", json={"envelope": envelope})
    assert (bare.status_code, bare.get_json()["check"]) == (400, "referral-required")
    assert wrapped.get_json()["check"] == "referral-required"
    assert counts(db_session) == (0, 0, 0)


def test_an_ordinary_message_carrying_a_referral_object_is_refused(cast, db_session):
    envelope = sealed(cast.sender, cast.intake)
    response = cast.sender.post("/api/v1/messages", json=referral_post(envelope))
    assert (response.status_code, response.get_json()["check"]) == (400, "unexpected-referral")
    assert counts(db_session) == (0, 0, 0)


def test_referral_refusals_for_organisation_and_addressees(cast, db_session, make_person):
    other_b_member = cast.member
    cases = {
        "no-to-org": referral_envelope(cast.sender, cast.intake, to_org=None),
        "organisation-not-accepting": referral_envelope(cast.sender, cast.intake, to_org=cast.a.id),
        "not-a-contact-point": referral_envelope(
            cast.sender, cast.intake, other_b_member, to_org=cast.b.id
        ),
        "unknown-organisation": referral_envelope(
            cast.sender, cast.intake, to_org="7d4a3c1e-0000-4000-8000-000000000000"
        ),
    }
    # A contact point of C addressed in a referral to B.
    cases["outsider"] = referral_envelope(cast.sender, cast.outsider, to_org=cast.b.id)
    results = {
        name: cast.sender.post("/api/v1/messages", json=referral_post(envelope))
        for name, envelope in cases.items()
    }
    checks = {name: (r.status_code, r.get_json()["check"]) for name, r in results.items()}
    assert checks == {
        "no-to-org": (422, "no-to-org"),
        "organisation-not-accepting": (422, "organisation-not-accepting"),
        "not-a-contact-point": (422, "not-a-contact-point"),
        "unknown-organisation": (422, "unknown-organisation"),
        "outsider": (422, "not-a-contact-point"),
    }
    assert counts(db_session) == (0, 0, 0)


def test_a_referral_to_ones_own_organisation_is_refused(cast, db_session, make_person):
    cast.a.accepts_cross_border_referrals = True
    db_session.commit()
    colleague = make_person("A")
    envelope = referral_envelope(cast.sender, colleague, to_org=cast.a.id)
    response = cast.sender.post("/api/v1/messages", json=referral_post(envelope))
    assert (response.status_code, response.get_json()["check"]) == (422, "same-organisation")


# --- status changes --------------------------------------------------------------------------


def test_receiving_contact_points_acknowledge_accept_and_close(cast):
    referral_id = cast.send()

    acknowledged = cast.status(cast.intake, referral_id, "acknowledged")
    accepted = cast.status(cast.colleague, referral_id, "accepted")
    closed = cast.status(cast.sender, referral_id, "closed")

    assert [r.status_code for r in (acknowledged, accepted, closed)] == [200, 200, 200]
    final = closed.get_json()
    assert final["status"] == "closed"
    assert None not in (final["acknowledged_at"], final["accepted_at"], final["closed_at"])
    assert [(e["event"], e["from_status"], e["to_status"]) for e in final["events"]] == [
        ("sent", None, "sent"),
        ("acknowledged", "sent", "acknowledged"),
        ("accepted", "acknowledged", "accepted"),
        ("closed", "accepted", "closed"),
    ]
    assert [e["actor"] for e in final["events"]] == [
        cast.sender.user.display_name,
        cast.intake.user.display_name,
        cast.colleague.user.display_name,
        cast.sender.user.display_name,
    ]
    # the sender sees where it stands
    seen = cast.sender.get("/api/v1/referrals?box=outgoing").get_json()["referrals"]
    assert [(r["id"], r["status"]) for r in seen] == [(referral_id, "closed")]


def test_declining_a_sent_referral_also_acknowledges_it(cast):
    referral_id = cast.send()
    declined = cast.status(cast.intake, referral_id, "declined").get_json()
    assert declined["status"] == "declined"
    assert declined["acknowledged_at"] == declined["decided_at"]
    assert declined["accepted_at"] is None


def test_redirecting_names_another_organisation(cast):
    referral_id = cast.send()
    cast.status(cast.intake, referral_id, "acknowledged")

    missing = cast.status(cast.intake, referral_id, "redirected")
    same = cast.status(cast.intake, referral_id, "redirected", redirect_to=cast.b.id)
    done = cast.status(cast.intake, referral_id, "redirected", redirect_to=cast.c.id)

    assert (missing.status_code, missing.get_json()["check"]) == (400, "bad-redirect")
    assert (same.status_code, same.get_json()["check"]) == (422, "same-organisation")
    assert done.status_code == 200
    assert done.get_json()["redirected_to"] == {
        "id": cast.c.id,
        "name": "InfoTraite",
        "country": "LU",
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ((), "closed"),  # sent → closed
        ((), "redirected"),  # redirect needs an acknowledgement first
        (("acknowledged",), "acknowledged"),
        (("accepted",), "declined"),
        (("accepted", "closed"), "accepted"),
        (("declined", "closed"), "closed"),
    ],
)
def test_transitions_outside_the_flow_are_conflicts(cast, db_session, path, status):
    referral_id = cast.send()
    for step in path:
        assert cast.status(cast.intake, referral_id, step).status_code == 200
    extra = {"redirect_to": cast.c.id} if status == "redirected" else {}
    events_before = counts(db_session)[2]

    response = cast.status(cast.intake, referral_id, status, **extra)

    assert (response.status_code, response.get_json()["check"]) == (409, "bad-transition")
    assert counts(db_session)[2] == events_before


def test_who_may_change_what(cast, db_session):
    referral_id = cast.send()
    outsider = cast.status(cast.outsider, referral_id, "acknowledged")
    member = cast.status(cast.member, referral_id, "acknowledged")
    sender = cast.status(cast.sender, referral_id, "acknowledged")
    assert (outsider.status_code, outsider.get_json()["check"]) == (404, "not-found")
    assert (member.status_code, member.get_json()["check"]) == (404, "not-found")
    assert (sender.status_code, sender.get_json()["check"]) == (
        403,
        "not-a-receiving-contact-point",
    )
    assert db_session.get(Referral, referral_id).status == "sent"
    # an organisation's plain member sees no intake queue; the outsider not the referral
    assert cast.member.get("/api/v1/referrals?box=incoming").get_json() == {"referrals": []}
    assert cast.outsider.get(f"/api/v1/referrals/{referral_id}").status_code == 404
    # a contact point who loses the role loses the referral too
    cast.intake.user.role = Role.MEMBER.value
    db_session.commit()
    assert cast.status(cast.intake, referral_id, "acknowledged").status_code == 404


@pytest.mark.parametrize(
    "payload",
    [{"status": "lost"}, {"status": None}, {}, {"status": "accepted", "redirect_to": "x"}, [1]],
)
def test_bad_status_bodies_are_400(cast, payload):
    referral_id = cast.send()
    response = cast.intake.post(f"/api/v1/referrals/{referral_id}/status", json=payload)
    assert response.status_code == 400
    assert response.get_json()["status"] == 400


def test_listing_validates_box_and_status_and_filters(cast):
    first = cast.send()
    second = cast.send("normal")
    cast.status(cast.intake, first, "acknowledged")

    def ids(query: str) -> list[str]:
        response = cast.intake.get(f"/api/v1/referrals?{query}")
        assert response.status_code == 200, response.get_json()
        return [r["id"] for r in response.get_json()["referrals"]]

    assert sorted(ids("box=incoming")) == sorted([first, second])
    assert ids("box=incoming&status=sent") == [second]
    assert ids("box=outgoing") == []
    assert cast.intake.get("/api/v1/referrals?box=all").status_code == 400
    assert cast.intake.get("/api/v1/referrals?status=lost").status_code == 400


def test_unknown_or_malformed_referral_ids_are_404(cast):
    assert cast.intake.get("/api/v1/referrals/not-an-id").status_code == 404
    missing = cast.intake.post(
        "/api/v1/referrals/7d4a3c1e-0000-4000-8000-000000000000/status",
        json={"status": "acknowledged"},
    )
    assert missing.status_code == 404


def test_the_api_needs_a_signed_in_person(client):
    assert client.get("/api/v1/referrals").status_code == 401


def test_overdue_shows_once_the_due_time_has_passed(cast, db_session):
    referral_id = cast.send()
    referral = db_session.get(Referral, referral_id)
    referral.ack_due_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    shown = cast.intake.get(f"/api/v1/referrals/{referral_id}").get_json()
    assert shown["overdue"] is True
    assert parse_time(shown["ack_due_at"], "ack_due_at") < utcnow()
    acknowledged = cast.status(cast.intake, referral_id, "acknowledged").get_json()
    assert acknowledged["overdue"] is False


def test_the_openapi_document_describes_the_referral_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/referrals", "/referrals/{id}", "/referrals/{id}/status"} <= set(paths)

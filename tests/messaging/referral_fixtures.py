"""Fixtures of the referral tests: a Belgian sender, a Dutch organisation that takes referrals
with two contact points and a plain member, and referral envelopes sealed by the Python client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from liaison_client.messages import seal

from accounts.models import Role
from directory.models import Organization
from tests.messaging.conftest import Person, body


def referral_form(urgency: str = "high") -> dict[str, Any]:
    """A filled-in referral form (encrypted; the relay never sees it)."""
    return {
        "v": 1,
        "stage": "assistance",
        "needs": ["shelter", "medical"],
        "urgency": urgency,
        "languages": ["ro", "en"],
        "consent_recorded": True,
        "consent_date": "2026-11-20",
        "notes": "ZEBRA-7731: needs a safe place before Monday",
    }


def referral_envelope(
    sender: Person, *recipients: Person, to_org: str, urgency: str = "high", **options: Any
) -> dict[str, Any]:
    """A sealed envelope of kind referral (wire form)."""
    keys = [person.identity.public() for person in recipients]
    content = body("ZEBRA-7731 referral", form=referral_form(urgency))
    envelope = seal(sender.identity, keys, content, kind="referral", to_org=to_org, **options)
    return envelope.to_json()


def referral_post(
    envelope: dict[str, Any], urgency: str = "high", from_org: str | None = None
) -> dict[str, Any]:
    """The body of POST /api/v1/messages for a referral."""
    referral: dict[str, Any] = {"urgency": urgency}
    if from_org is not None:
        referral["from_org"] = from_org
    return {"envelope": envelope, "referral": referral}


@dataclass
class Cast:
    """Who takes part: the sender (A, Belgium), B's contact points and member, C's contact point."""

    a: Organization
    b: Organization
    c: Organization
    sender: Person
    intake: Person
    colleague: Person
    member: Person
    outsider: Person

    def send(self, urgency: str = "high", **options: Any) -> str:
        """Post a referral from ``sender`` to ``intake`` at B; returns its id."""
        envelope = referral_envelope(self.sender, self.intake, to_org=self.b.id, urgency=urgency)
        response = self.sender.post("/api/v1/messages", json=referral_post(envelope, urgency))
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def status(self, who: Person, referral_id: str, status: str, **extra: Any) -> Any:
        """POST a status change as ``who``."""
        return who.post(f"/api/v1/referrals/{referral_id}/status", json={"status": status, **extra})


@pytest.fixture
def cast(db_session, organisations, make_person) -> Cast:
    """Organisations A (BE) and B (NL, takes referrals), C (LU, takes referrals) and people."""
    a, b = organisations["A"], organisations["B"]
    b.accepts_cross_border_referrals = True
    c = Organization(
        ref="lu-infotraite",
        name="InfoTraite",
        country="LU",
        org_type="ngo",
        accepts_cross_border_referrals=True,
    )
    db_session.add(c)
    db_session.commit()
    organisations["C"] = c
    return Cast(
        a=a,
        b=b,
        c=c,
        sender=make_person("A"),
        intake=make_person("B"),
        colleague=make_person("B", Role.ORG_EDITOR),
        member=make_person("B", Role.MEMBER),
        outsider=make_person("C"),
    )

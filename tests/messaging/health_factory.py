"""Rows for the network-health tests: referrals and envelopes inserted as the relay stores them."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.db import new_id
from directory.models import Organization
from messaging.models import Delivery, Envelope, Referral


def organisation(db_session, ref: str, country: str, **fields) -> Organization:
    """A published organisation of the network."""
    organization = Organization(
        ref=ref, name=fields.pop("name", ref), country=country, org_type="ngo", **fields
    )
    db_session.add(organization)
    db_session.commit()
    return organization


def referral(
    db_session,
    source: Organization,
    target: Organization,
    sent_at: datetime,
    *,
    urgency: str = "high",
    status: str = "sent",
    due_hours: float = 4,
    acknowledged_after: float | None = None,
    accepted_after: float | None = None,
) -> Referral:
    """A referral from ``source`` to ``target``, acknowledged/accepted after so many hours."""
    row = Referral(
        id=new_id(),
        thread_id=new_id(),
        from_org_id=source.id,
        to_org_id=target.id,
        from_country=source.country,
        to_country=target.country,
        urgency=urgency,
        status=status,
        sent_at=sent_at,
        ack_due_at=sent_at + timedelta(hours=due_hours),
        acknowledged_at=None
        if acknowledged_after is None
        else sent_at + timedelta(hours=acknowledged_after),
        accepted_at=None if accepted_after is None else sent_at + timedelta(hours=accepted_after),
    )
    db_session.add(row)
    return row


def envelope(
    db_session,
    sender,
    received_at: datetime,
    *,
    to_org: Organization | None = None,
    recipients=(),
    kind: str = "message",
) -> Envelope:
    """A stored envelope (opaque bytes: the statistics never look inside)."""
    row = Envelope(
        id=new_id(),
        sender_id=sender.id,
        sender_key="k" * 22,
        thread_id=new_id(),
        kind=kind,
        to_org_id=to_org.id if to_org else None,
        header=b"{}",
        nonce=b"\0" * 24,
        ciphertext=b"\0" * 32,
        wraps=[],
        sig=b"\0" * 64,
        size=34,
        created_at=received_at,
        received_at=received_at,
        expires_at=received_at + timedelta(days=30),
    )
    db_session.add(row)
    db_session.flush()
    for person in recipients:
        db_session.add(Delivery(envelope_id=row.id, recipient_id=person.id, key_id="k" * 22))
    return row

"""A person's data export (GDPR subject access), assembled from accounts, directory and relay.

It lives in ``messaging`` because this package may import the other two (``directory`` never
imports ``messaging``). The relay holds no message content it could read: for messages and
referrals the export gives metadata only (counts and times), and for keys the public parts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import privacy as account_privacy
from accounts.models import User
from accounts.privacy import stamp
from core import audit
from directory.privacy import contact_entries
from messaging.models import (
    Attestation,
    Blob,
    Delivery,
    Envelope,
    IdentityKey,
    KeyBackup,
    KeyLogEntry,
    Referral,
    ReferralEvent,
)

EXPORT_FORMAT = "liaison-personal-data/1"
NOT_EXPORTED = (
    "password hash",
    "second-factor (TOTP) secret",
    "recovery codes (stored as hashes)",
    "session, API-token and link identifiers (stored as hashes)",
    "encrypted key backup (only the person's passphrase opens it; its existence is listed)",
    "message content (encrypted end to end: the server cannot read it)",
)


def keys_json(session: Session, user: User) -> dict[str, Any]:
    """Published public keys, attestations, key-log entries and whether a key backup exists."""
    keys = session.scalars(
        select(IdentityKey).where(IdentityKey.user_id == user.id).order_by(IdentityKey.published_at)
    )
    attestations = session.scalars(
        select(Attestation).where(Attestation.user_id == user.id).order_by(Attestation.created_at)
    )
    log = session.scalars(
        select(KeyLogEntry).where(KeyLogEntry.user_id == user.id).order_by(KeyLogEntry.seq)
    )
    backup = session.get(KeyBackup, user.id)
    return {
        "published_keys": [
            {
                "key_id": key.key_id,
                "sign_pk": key.sign_pk,
                "box_pk": key.box_pk,
                "created_at": key.created_at,
                "published_at": stamp(key.published_at),
                "current": bool(key.current),
                "revoked_at": stamp(key.revoked_at),
            }
            for key in keys
        ],
        "attestations": [
            {
                "key_id": a.key_id,
                "valid_until": a.valid_until,
                "created_at": stamp(a.created_at),
            }
            for a in attestations
        ],
        "key_log": [
            {"seq": entry.seq, "at": stamp(entry.at), "event": entry.event} for entry in log
        ],
        "key_backup": None
        if backup is None
        else {"exists": True, "version": backup.version, "updated_at": stamp(backup.updated_at)},
    }


def _span(session: Session, statement: Any) -> dict[str, Any]:
    count, first, last = session.execute(statement).one()
    return {"count": int(count or 0), "first": stamp(first), "last": stamp(last)}


def messages_json(session: Session, user: User) -> dict[str, Any]:
    """Messages the relay still holds that the person sent or received: counts and times."""
    sent = select(
        func.count(), func.min(Envelope.received_at), func.max(Envelope.received_at)
    ).where(Envelope.sender_id == user.id, Envelope.kind != "receipt")
    received = select(
        func.count(), func.min(Delivery.delivered_at), func.max(Delivery.delivered_at)
    ).where(Delivery.recipient_id == user.id, Delivery.is_sender.is_(False))
    blobs = session.execute(
        select(func.count(), func.coalesce(func.sum(Blob.size), 0)).where(
            Blob.uploader_id == user.id
        )
    ).one()
    return {
        "note": "Messages are deleted when every copy is acknowledged or they expire; "
        "these are the ones still held. Content is encrypted and cannot be read by the server.",
        "sent": _span(session, sent),
        "received": _span(session, received),
        "attachments_uploaded": {"count": int(blobs[0]), "bytes": int(blobs[1])},
    }


def referrals_json(session: Session, user: User) -> dict[str, Any]:
    """Referrals the person sent, and status changes they made: status and times only."""
    sent = session.scalars(
        select(Referral).where(Referral.sender_id == user.id).order_by(Referral.sent_at)
    )
    events = session.scalars(
        select(ReferralEvent).where(ReferralEvent.actor_id == user.id).order_by(ReferralEvent.at)
    )
    return {
        "sent": [
            {
                "id": r.id,
                "urgency": r.urgency,
                "status": r.status,
                "from_country": r.from_country,
                "to_country": r.to_country,
                "sent_at": stamp(r.sent_at),
                "acknowledged_at": stamp(r.acknowledged_at),
                "accepted_at": stamp(r.accepted_at),
                "closed_at": stamp(r.closed_at),
            }
            for r in sent
        ],
        "status_changes_made": [
            {
                "referral_id": e.referral_id,
                "at": stamp(e.at),
                "event": e.event,
                "from_status": e.from_status,
                "to_status": e.to_status,
            }
            for e in events
        ],
    }


def export_person(session: Session, email: str, now: datetime) -> dict[str, Any]:
    """Everything Liaison stores about the person with this e-mail address, as JSON data."""
    address = email.strip()
    user = account_privacy.find_account(session, address)
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": stamp(now),
        "email": address,
        "account": None,
        "directory_contact_entries": contact_entries(session, address),
        "invitations": account_privacy.invitations_json(session, address),
        "not_exported": list(NOT_EXPORTED),
    }
    if user is None:
        return export
    export["account"] = account_privacy.account_json(session, user)
    export["memberships"] = account_privacy.memberships_json(user)
    export["sessions"] = account_privacy.sessions_json(session, user)
    export["api_tokens"] = account_privacy.tokens_json(session, user)
    export["password_resets"] = account_privacy.password_resets_json(session, user)
    export["audit"] = account_privacy.audit_about_person(session, user)
    export["keys"] = keys_json(session, user)
    export["messages"] = messages_json(session, user)
    export["referrals"] = referrals_json(session, user)
    return export


def record_export(session: Session, actor_id: str | None, export: dict[str, Any]) -> None:
    """Note in the audit history that a person's data was exported (not what it contained)."""
    subjects = [("contact", entry["id"]) for entry in export["directory_contact_entries"]]
    if export["account"] is not None:
        subjects.insert(0, ("user", export["account"]["id"]))
    for entity_type, entity_id in subjects:
        audit.record(
            session,
            actor_id=actor_id,
            action="export_personal_data",
            entity_type=entity_type,
            entity_id=entity_id,
        )


def summary(export: dict[str, Any]) -> dict[str, int]:
    """How many items each section of an export holds (for the readable summary)."""
    audit_made = export.get("audit", {}).get("made_by_them", [])
    audit_about = export.get("audit", {}).get("about_them", [])
    keys = export.get("keys", {})
    return {
        "contact_entries": len(export["directory_contact_entries"]),
        "invitations": len(export["invitations"]),
        "memberships": len(export.get("memberships", [])),
        "sessions": len(export.get("sessions", [])),
        "api_tokens": len(export.get("api_tokens", [])),
        "audit_made": len(audit_made),
        "audit_about": len(audit_about),
        "keys": len(keys.get("published_keys", [])),
        "key_log": len(keys.get("key_log", [])),
        "referrals_sent": len(export.get("referrals", {}).get("sent", [])),
    }

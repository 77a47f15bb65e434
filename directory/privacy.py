"""GDPR for the directory: erase a contact person, and list what the directory holds on someone.

Erasing deletes the contact row and its phones, queues the organisation for the search index
in the same transaction (the search document is rebuilt without the person), and replaces the
person's values in the audit history and in change requests with ``[redacted]``. The erasure
itself is recorded, without the erased values. The caller commits once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.audit import REDACTED, AuditEntry
from directory.errors import DirectoryError
from directory.models import ChangeRequest, Contact, Organization

MIN_NAME_LENGTH = 3  # a shorter name would redact unrelated words (and is no name to match on)
KEPT_FIELDS = {"visibility"}  # a contact's audit fields that say nothing about the person
SEARCH_LIMIT = 50


class ContactNotFound(DirectoryError):
    """No directory contact has this id."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, in numbers (it keeps none of the erased values)."""

    contact_id: str
    organization_id: str
    audit_entries_redacted: int
    change_requests_redacted: int


def find_contacts(session: Session, text: str) -> list[Contact]:
    """Contact persons whose e-mail, name or phone contains ``text`` (case-insensitive)."""
    text = text.strip().lower()
    if len(text) < MIN_NAME_LENGTH:
        return []
    pattern = f"%{text}%"
    statement = (
        select(Contact)
        .join(Organization, Organization.id == Contact.organization_id)
        .where(or_(func.lower(Contact.email).like(pattern), func.lower(Contact.name).like(pattern)))
        .order_by(Organization.name, Contact.position)
        .limit(SEARCH_LIMIT)
    )
    found = list(session.scalars(statement))
    if len(found) < SEARCH_LIMIT:
        by_phone = select(Contact).where(Contact.phones.any(number=text)).limit(SEARCH_LIMIT)
        found += [c for c in session.scalars(by_phone) if c not in found]
    return found


def personal_values(contact: Contact) -> list[str]:
    """The values that identify the person: name, e-mail, phone numbers, role titles."""
    values = [contact.name or "", contact.email or ""]
    values += [phone.number for phone in contact.phones]
    values += [title for title in (contact.title or {}).values() if title]
    return [value for value in values if value]


def _needles(contact: Contact) -> list[str]:
    """What to look for in texts that are not the contact's own entries (titles excluded:
    "Intake" is everyone's title), in the forms a JSON text would hold them, lower-cased."""
    values = [contact.email or "", *(phone.number for phone in contact.phones)]
    if contact.name and len(contact.name.strip()) >= MIN_NAME_LENGTH:
        values.append(contact.name.strip())
    forms: set[str] = set()
    for value in filter(None, values):
        forms.add(value.lower())
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1].lower())
        forms.add(json.dumps(value)[1:-1].lower())
    return sorted(forms)


def _mentions(text: str | None, needles: Iterable[str]) -> bool:
    if not text:
        return False
    lowered = text.lower()
    return any(needle in lowered for needle in needles)


def _redact_audit(session: Session, contact: Contact, needles: list[str]) -> int:
    """Redact the contact's own audit values, and any value of its organisation naming it."""
    statement = select(AuditEntry).where(
        or_(
            AuditEntry.entity_id == contact.id,
            AuditEntry.organization_id == contact.organization_id,
            AuditEntry.entity_id == contact.organization_id,
        )
    )
    redacted = 0
    for entry in session.scalars(statement):
        own = entry.entity_type == "contact" and entry.entity_id == contact.id
        changed = False
        for column in ("old_value", "new_value"):
            value = getattr(entry, column)
            if value is None or value == REDACTED:
                continue
            if (own and entry.field not in KEPT_FIELDS) or _mentions(value, needles):
                setattr(entry, column, REDACTED)
                changed = True
        redacted += changed
    return redacted


def _scrub(value: Any, needles: list[str]) -> tuple[Any, bool]:
    """The JSON value with every string that names the person replaced; and whether it did."""
    if isinstance(value, str):
        return (REDACTED, True) if _mentions(value, needles) else (value, False)
    if isinstance(value, list):
        pairs = [_scrub(item, needles) for item in value]
        return [item for item, _ in pairs], any(hit for _, hit in pairs)
    if isinstance(value, dict):
        scrubbed = {key: _scrub(item, needles) for key, item in value.items()}
        return {k: v for k, (v, _) in scrubbed.items()}, any(h for _, h in scrubbed.values())
    return value, False


def _redact_change_requests(session: Session, contact: Contact, needles: list[str]) -> int:
    statement = select(ChangeRequest).where(
        ChangeRequest.organization_id == contact.organization_id
    )
    redacted = 0
    for request in session.scalars(statement):
        base, in_base = _scrub(request.base, needles)
        changes, in_changes = _scrub(request.changes, needles)
        notes = [_mentions(request.proposer_note, needles), _mentions(request.review_note, needles)]
        if in_base:
            request.base = base
        if in_changes:
            request.changes = changes
        if notes[0]:
            request.proposer_note = REDACTED
        if notes[1]:
            request.review_note = REDACTED
        redacted += in_base or in_changes or any(notes)
    return redacted


def erase_contact(session: Session, actor_id: str | None, contact_id: str) -> Erasure:
    """Erase a contact person: the row and phones, their audit values, and from search."""
    contact = session.get(Contact, contact_id) if len(contact_id) <= 36 else None
    if contact is None:
        raise ContactNotFound(contact_id)
    organization = contact.organization
    needles = _needles(contact)
    session.flush()  # pending changes first, so that the redaction sees every audit entry
    audit_count = _redact_audit(session, contact, needles)
    request_count = _redact_change_requests(session, contact, needles)
    for phone in list(contact.phones):
        organization.phones.remove(phone)
    organization.contacts.remove(contact)
    audit.record(
        session,
        actor_id=actor_id,
        action="erase",
        entity_type="contact",
        entity_id=contact_id,
        organization_id=organization.id,
        new=f"personal data erased; {audit_count} audit entries and "
        f"{request_count} change requests redacted",
    )
    outbox.enqueue(session, organization.id, reason="erased")
    session.flush()
    return Erasure(contact_id, organization.id, audit_count, request_count)


def contact_entries(session: Session, email: str) -> list[dict[str, Any]]:
    """Every directory contact entry with this e-mail address, as stored (for an export)."""
    address = email.strip().lower()
    if not address:
        return []
    statement = select(Contact).where(func.lower(Contact.email) == address)
    entries = []
    for contact in session.scalars(statement):
        organization = contact.organization
        history = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "contact", AuditEntry.entity_id == contact.id)
            .order_by(AuditEntry.at)
        )
        entries.append(
            {
                "id": contact.id,
                "organisation": {
                    "id": organization.id,
                    "ref": organization.ref,
                    "name": organization.name,
                    "country": organization.country,
                },
                "name": contact.name,
                "title": dict(contact.title or {}),
                "email": contact.email,
                "phones": [phone.number for phone in contact.phones],
                "languages": list(contact.languages or []),
                "visibility": contact.visibility,
                "is_backup": bool(contact.is_backup),
                "history": [audit_json(entry) for entry in history],
            }
        )
    return entries


def audit_json(entry: AuditEntry, *, values: bool = True) -> dict[str, Any]:
    """An audit entry as exported; ``values=False`` leaves out old and new values."""
    data: dict[str, Any] = {
        "at": entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "organisation_id": entry.organization_id,
        "field": entry.field,
    }
    if values:
        data["old_value"], data["new_value"] = entry.old_value, entry.new_value
    return data

"""Change requests: a contact point or organisation editor proposes, the secretariat decides.

A proposal is checked with the secretariat form's own rules (``services.check_organization``) and
stores, per changed field, the value when it was made (``base``) and the proposed one
(``changes``). Approval applies it through ``services.update_organization`` in the reviewer's
transaction, so validation, the audit history and the search outbox are exactly those of a
secretariat edit.

Conflicts: a field whose current value differs from its ``base`` (someone changed it since the
proposal) is a conflict. Approval is refused while there are conflicts unless the reviewer
confirms them, passing the fingerprint of the current values the review page showed; if the entry
changed again after the page was drawn, the fingerprint no longer matches and the reviewer must
look again. Secretariat-only fields (visibility, publication, verification, review interval) are
never proposable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Role
from core import audit
from directory import services
from directory.errors import DirectoryError, FieldError, InvalidDirectoryInput
from directory.models import ChangeRequest, Organization, Phone
from directory.validation import TEXT_LANGUAGES
from directory.verification import Actor, NotAllowed, may_act_for

# Proposable fields, in form order, with their labels (translation keys).
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "alternate_name": "Other name or abbreviation",
    "description.nl": "Description in Dutch",
    "description.fr": "Description in French",
    "description.de": "Description in German",
    "description.en": "Description in English",
    "city": "Town",
    "website": "Website",
    "email": "E-mail",
    "phone": "Phone",
    "emergency_phone": "Emergency line (24/7)",
    "is_24_7": "Available 24/7",
    "accepts_cross_border_referrals": "Accepts cross-border referrals",
    "languages": "Working languages",
    "exploitation_forms": "Forms of exploitation",
    "target_groups": "Target groups",
}
TEXT_FIELDS = ("name", "alternate_name", "city", "website", "email", "phone", "emergency_phone")
FLAG_FIELDS = ("is_24_7", "accepts_cross_border_referrals")
LIST_FIELDS = ("languages", "exploitation_forms", "target_groups")
CODE_VOCABULARIES = {
    "languages": "language",
    "exploitation_forms": "exploitation_form",
    "target_groups": "target_group",
}
PHONE_FIELDS = {"phone": False, "emergency_phone": True}  # field → is_emergency


class ChangeRequestError(DirectoryError):
    """Base of the change-request errors."""


class ChangeRequestNotFound(ChangeRequestError):
    """No change request has this id (or the person may not see it)."""


class NotPending(ChangeRequestError):
    """The change request was already approved, rejected or withdrawn."""


class NothingToChange(ChangeRequestError):
    """The proposal is the same as the entry as it stands."""


class ChangeConflict(ChangeRequestError):
    """Fields changed since the proposal (or since the review page was drawn): look again."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(", ".join(fields))


@dataclass(frozen=True)
class FieldDiff:
    """One proposed field: its value when proposed, now, and the proposed one."""

    field: str
    label: str
    base: Any
    current: Any
    proposed: Any

    @property
    def conflict(self) -> bool:
        """Changed by someone else since the proposal, to something other than the proposal."""
        return not same(self.current, self.base) and not same(self.current, self.proposed)

    @property
    def already_applied(self) -> bool:
        """The entry already holds the proposed value."""
        return same(self.current, self.proposed)


def same(left: Any, right: Any) -> bool:
    """Equal as directory values: lists of codes compare as sets, empty text as none."""
    return _normal(left) == _normal(right)


def _normal(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    if value == "":
        return None
    return value


def _own_phone(organization: Organization, emergency: bool) -> Phone | None:
    for phone in organization.phones:
        if phone.contact_id is None and phone.contact is None and phone.is_emergency == emergency:
            return phone
    return None


def proposable_fields(organization: Organization) -> list[str]:
    """The fields members may propose; a secretariat-only phone is left to the secretariat."""
    fields = list(FIELD_LABELS)
    for name, emergency in PHONE_FIELDS.items():
        phone = _own_phone(organization, emergency)
        if phone is not None and phone.visibility == "secretariat":
            fields.remove(name)
    return fields


def current_values(organization: Organization) -> dict[str, Any]:
    """The organisation's proposable fields as they stand, keyed like ``FIELD_LABELS``."""
    values: dict[str, Any] = {
        "name": organization.name,
        "alternate_name": organization.alternate_name,
        "city": organization.city,
        "website": organization.website,
        "email": organization.email,
        "is_24_7": bool(organization.is_24_7),
        "accepts_cross_border_referrals": bool(organization.accepts_cross_border_referrals),
        "languages": organization.language_codes,
        "exploitation_forms": organization.codes("exploitation_form"),
        "target_groups": organization.codes("target_group"),
    }
    for lang in TEXT_LANGUAGES:
        values[f"description.{lang}"] = (organization.description or {}).get(lang)
    for name, emergency in PHONE_FIELDS.items():
        phone = _own_phone(organization, emergency)
        values[name] = phone.number if phone else None
    return {name: values[name] for name in FIELD_LABELS}


def fingerprint(organization: Organization, fields: list[str]) -> str:
    """A short digest of the current values of ``fields`` (what a review page showed)."""
    current = current_values(organization)
    chosen = {name: _normal(current.get(name)) for name in sorted(fields)}
    text = json.dumps(chosen, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _service_values(flat: Mapping[str, Any], organization: Organization) -> dict[str, Any]:
    """Flat proposal values → the values ``services.check_organization`` takes."""
    values: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *FLAG_FIELDS, *LIST_FIELDS):
        if name in flat:
            values[name] = flat[name]
    texts = {name.split(".", 1)[1]: flat[name] for name in flat if name.startswith("description.")}
    if texts:
        description = {**(organization.description or {}), **texts}
        values["description"] = {lang: text for lang, text in description.items() if text}
    new_phones = [
        name for name, emergency in PHONE_FIELDS.items()
        if name in values and _own_phone(organization, emergency) is None
    ]  # fmt: skip
    existing = [p for p in organization.phones if p.contact_id is None]
    if new_phones and len(existing) < len(PHONE_FIELDS):
        # A new phone takes the other phone's audience, else the widest the organisation allows.
        default = "network" if organization.visibility in ("public", "network") else "secretariat"
        values["phone_visibility"] = existing[0].visibility if existing else default
    return values


def _flat(clean: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name in fields:
        if name.startswith("description."):
            flat[name] = (clean.get("description") or {}).get(name.split(".", 1)[1])
        else:
            flat[name] = clean.get(name)
    return flat


def _require_member(actor: Actor, organization_id: str) -> None:
    if not may_act_for(actor, organization_id):
        raise NotAllowed(organization_id)


def _require_secretariat(actor: Actor) -> None:
    if not (actor.is_active and actor.has_role(Role.SECRETARIAT)):
        raise NotAllowed("secretariat")


def propose(
    session: Session,
    actor: Actor,
    organization_id: str,
    values: Mapping[str, Any],
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> ChangeRequest:
    """Propose changes to one's own organisation; only fields that differ are kept.

    ``values`` holds proposable fields keyed like ``FIELD_LABELS`` (descriptions as
    ``description.<lang>``). Invalid values raise ``InvalidDirectoryInput`` with the secretariat
    form's field names (``description_fr`` …); an unchanged entry raises ``NothingToChange``.
    """
    _require_member(actor, organization_id)
    organization = services.get_organization_for_edit(session, organization_id)
    fields = [name for name in proposable_fields(organization) if name in values]
    posted = {name: values[name] for name in fields}
    clean = services.check_organization(_service_values(posted, organization), organization)
    if len(note or "") > 2000:
        raise InvalidDirectoryInput(
            {"proposer_note": FieldError("At most %(max)s characters.", {"max": 2000})}
        )
    proposed = _flat(clean, fields)
    current = current_values(organization)
    changes = {name: proposed[name] for name in fields if not same(proposed[name], current[name])}
    if not changes:
        raise NothingToChange(organization_id)
    request = ChangeRequest(
        organization_id=organization.id,
        proposer_id=actor.id,
        status="pending",
        base={name: current[name] for name in changes},
        changes=changes,
        proposer_note=(note or "").strip() or None,
    )
    if now is not None:
        request.created_at = now
    session.add(request)
    session.flush()
    _record(session, actor.id, "propose", request, new=sorted(changes))
    return request


def get_request(session: Session, request_id: str) -> ChangeRequest:
    """A change request by id, or ``ChangeRequestNotFound``."""
    request = None if len(request_id) > 36 else session.get(ChangeRequest, request_id)
    if request is None:
        raise ChangeRequestNotFound(request_id)
    return request


def diff(session: Session, request: ChangeRequest) -> list[FieldDiff]:
    """The request's fields side by side: when proposed, now, and proposed, in form order."""
    organization = services.get_organization_for_edit(session, request.organization_id)
    current = current_values(organization)
    return [
        FieldDiff(name, label, request.base.get(name), current.get(name), request.changes[name])
        for name, label in FIELD_LABELS.items()
        if name in request.changes
    ]


def review_fingerprint(session: Session, request: ChangeRequest) -> str:
    """The fingerprint of the current values of the request's fields."""
    organization = services.get_organization_for_edit(session, request.organization_id)
    return fingerprint(organization, list(request.changes))


def approve(
    session: Session,
    actor: Actor,
    request_id: str,
    *,
    note: str | None = None,
    confirmed: str | None = None,
    now: datetime,
) -> services.Changes:
    """Apply a pending proposal through the directory service, as the reviewer.

    With conflicts, ``confirmed`` must be the fingerprint of the current values the reviewer saw
    (``review_fingerprint``); otherwise ``ChangeConflict`` is raised and nothing changes.
    """
    _require_secretariat(actor)
    request = _pending(session, request_id)
    organization = services.get_organization_for_edit(session, request.organization_id)
    conflicts = [row.field for row in diff(session, request) if row.conflict]
    if conflicts and confirmed != fingerprint(organization, list(request.changes)):
        raise ChangeConflict(conflicts)
    values = _service_values(request.changes, organization)
    changes = services.update_organization(session, actor.id, organization.id, values)
    _decide(session, actor, request, "approved", note, now)
    return changes


def reject(
    session: Session, actor: Actor, request_id: str, *, note: str | None, now: datetime
) -> ChangeRequest:
    """Turn a pending proposal down; the note (required) tells the proposer why."""
    _require_secretariat(actor)
    request = _pending(session, request_id)
    if not (note or "").strip():
        raise InvalidDirectoryInput(
            {"review_note": FieldError("Say why, so that the proposer can act on it.")}
        )
    _decide(session, actor, request, "rejected", note, now)
    return request


def withdraw(session: Session, actor: Actor, request_id: str, now: datetime) -> ChangeRequest:
    """The proposer takes back a pending proposal."""
    request = get_request(session, request_id)
    if request.proposer_id != actor.id:
        raise ChangeRequestNotFound(request_id)
    if request.status != "pending":
        raise NotPending(request_id)
    request.status = "withdrawn"
    request.reviewed_at = now
    _record(session, actor.id, "withdraw", request)
    session.flush()
    return request


def _pending(session: Session, request_id: str) -> ChangeRequest:
    request = get_request(session, request_id)
    if request.status != "pending":
        raise NotPending(request_id)
    return request


def _decide(  # noqa: PLR0917 -- one private call site per decision
    session: Session,
    actor: Actor,
    request: ChangeRequest,
    status: str,
    note: str | None,
    now: datetime,
) -> None:
    request.status = status
    request.reviewer_id = actor.id
    request.reviewed_at = now
    request.review_note = (note or "").strip()[:2000] or None
    action = {"approved": "approve", "rejected": "reject"}[status]
    _record(session, actor.id, action, request, new=request.review_note)
    session.flush()


def _record(
    session: Session, actor_id: str, action: str, request: ChangeRequest, new: Any = None
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        entity_type="change_request",
        entity_id=request.id,
        organization_id=request.organization_id,
        new=new,
    )


def pending_count(session: Session) -> int:
    """How many proposals wait for the secretariat."""
    statement = (
        select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == "pending")
    )
    return int(session.scalar(statement) or 0)


def list_requests(
    session: Session, *, status: str | None = None, proposer_id: str | None = None
) -> list[ChangeRequest]:
    """Change requests, oldest pending first for the queue, newest first otherwise."""
    statement = select(ChangeRequest)
    if status:
        statement = statement.where(ChangeRequest.status == status)
    if proposer_id:
        statement = statement.where(ChangeRequest.proposer_id == proposer_id)
    order = (
        ChangeRequest.created_at.asc() if status == "pending" else ChangeRequest.created_at.desc()
    )
    return list(session.scalars(statement.order_by(order, ChangeRequest.id)))

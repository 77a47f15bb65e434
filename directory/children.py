"""Writes of an organisation's services and contact points by the secretariat.

Same rules as ``directory.services``: validate everything first, one audit entry per changed
field, a child never more visible than its organisation (refused with a field error), and the
organisation queued for the search index. Fields of secretariat-only contact points are written
to the audit history as ``[redacted]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from core import audit, outbox
from directory.errors import OrganisationNotFound
from directory.models import Contact, Organization, Phone, Service
from directory.services import get_organization_for_edit, set_codes
from directory.taxonomy import load_taxonomy
from directory.validation import SERVICE_STATUSES, VISIBILITIES, Checker, flag


def _record(  # noqa: PLR0917 -- reads like the audit entry it writes
    session: Session,
    actor_id: str | None,
    action: str,
    entity: Service | Contact,
    entity_type: str,
    name: str | None = None,
    old: Any = None,
    new: Any = None,
    *,
    confidential: bool = False,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity.id,
        organization_id=entity.organization_id,
        field=name,
        old=old,
        new=new,
        confidential=confidential,
    )


def check_service(values: Mapping[str, Any], organization: Organization) -> dict[str, Any]:
    """The clean values of a service form."""
    check = Checker()
    clean: dict[str, Any] = {
        "service_type": check.code("service_type", "service_type", values.get("service_type")),
        "name_i18n": check.translations("name_i18n", values.get("name_i18n"), max_length=300),
        "description": check.translations(
            "description", values.get("description"), max_length=5000
        ),
        "status": check.choice("status", values.get("status") or "active", SERVICE_STATUSES),
        "visibility": check.choice("visibility", values.get("visibility"), VISIBILITIES),
    }
    check.not_wider("visibility", clean["visibility"], organization.visibility)
    check.raise_if_any()
    names = clean["name_i18n"]
    clean["name"] = names.get("en") or next(iter(names.values()), None)
    if not clean["name"]:
        clean["name"] = load_taxonomy().label("service_type", clean["service_type"], "en")
    return clean


def _sync_service_types(organization: Organization) -> None:
    types: list[str] = []
    for service in organization.services:
        if service.service_type not in types:
            types.append(service.service_type)
    set_codes(organization, "service_type", types)


def _service(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise OrganisationNotFound(service_id)
    return service


def add_service(
    session: Session, actor_id: str | None, organization_id: str, values: Mapping[str, Any]
) -> Service:
    """Add a service to an organisation."""
    organization = get_organization_for_edit(session, organization_id)
    clean = check_service(values, organization)
    service = Service(position=len(organization.services), **clean)
    organization.services.append(service)
    session.flush()
    _record(session, actor_id, "create", service, "service", new=service.name)
    _sync_service_types(organization)
    outbox.enqueue(session, organization.id)
    session.flush()
    return service


def update_service(
    session: Session, actor_id: str | None, service_id: str, values: Mapping[str, Any]
) -> list[str]:
    """Change a service field by field; returns the changed fields."""
    service = _service(session, service_id)
    clean = check_service(values, service.organization)
    changed: list[str] = []
    for name, new in clean.items():
        old = getattr(service, name)
        if isinstance(new, dict):
            for lang in ("nl", "fr", "de", "en"):
                if (old or {}).get(lang) != new.get(lang):
                    field = f"{name}.{lang}"
                    _record(
                        session, actor_id, "update", service, "service", field,
                        (old or {}).get(lang), new.get(lang),
                    )  # fmt: skip
                    changed.append(field)
            setattr(service, name, dict(new))
        elif old != new:
            _record(session, actor_id, "update", service, "service", name, old, new)
            setattr(service, name, new)
            changed.append(name)
    if changed:
        _sync_service_types(service.organization)
        outbox.enqueue(session, service.organization_id)
    session.flush()
    return changed


def remove_service(session: Session, actor_id: str | None, service_id: str) -> None:
    """Remove a service from its organisation."""
    service = _service(session, service_id)
    organization = service.organization
    _record(session, actor_id, "delete", service, "service", old=service.name)
    organization.services.remove(service)
    _sync_service_types(organization)
    outbox.enqueue(session, organization.id)
    session.flush()


def check_contact_point(values: Mapping[str, Any], organization: Organization) -> dict[str, Any]:
    """The clean values of a contact-point form."""
    check = Checker()
    clean: dict[str, Any] = {
        "name": check.text("name", values.get("name"), max_length=200),
        "title": check.translations("title", values.get("title"), max_length=200),
        "email": check.email("email", values.get("email")),
        "phone": check.phone("phone", values.get("phone"), organization.country),
        "languages": check.codes("languages", "language", values.get("languages")),
        "visibility": check.choice("visibility", values.get("visibility"), VISIBILITIES),
        "is_backup": flag(values, "is_backup"),
    }
    check.not_wider("visibility", clean["visibility"], organization.visibility)
    if not (clean["name"] or clean["title"] or clean["email"] or clean["phone"]):
        check.fail("title_en", "Give at least a role, a name, an e-mail address or a phone.")
    check.raise_if_any()
    return clean


def _contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise OrganisationNotFound(contact_id)
    return contact


def _contact_values(contact: Contact) -> dict[str, Any]:
    phone = contact.phones[0].number if contact.phones else None
    return {
        "name": contact.name,
        "title": dict(contact.title or {}),
        "email": contact.email,
        "phone": phone,
        "languages": list(contact.languages or []),
        "visibility": contact.visibility,
        "is_backup": bool(contact.is_backup),
    }


def add_contact_point(
    session: Session, actor_id: str | None, organization_id: str, values: Mapping[str, Any]
) -> Contact:
    """Add a contact point to an organisation."""
    organization = get_organization_for_edit(session, organization_id)
    clean = check_contact_point(values, organization)
    contact = Contact(organization_id=organization.id, position=len(organization.contacts))
    organization.contacts.append(contact)
    session.flush()
    _write_contact(session, actor_id, contact, clean, "create")
    outbox.enqueue(session, organization.id)
    session.flush()
    return contact


def update_contact_point(
    session: Session, actor_id: str | None, contact_id: str, values: Mapping[str, Any]
) -> list[str]:
    """Change a contact point field by field; returns the changed fields."""
    contact = _contact(session, contact_id)
    clean = check_contact_point(values, contact.organization)
    changed = _write_contact(session, actor_id, contact, clean, "update")
    if changed:
        outbox.enqueue(session, contact.organization_id)
    session.flush()
    return changed


def _write_contact(
    session: Session, actor_id: str | None, contact: Contact, clean: dict[str, Any], action: str
) -> list[str]:
    current = _contact_values(contact)
    # Redact when the contact point is or was secretariat-only, so no edit leaks it.
    secret = "secretariat" in {current["visibility"], clean["visibility"]}
    changed: list[str] = []
    for name in ("visibility", "name", "title", "email", "phone", "languages", "is_backup"):
        old, new = current[name], clean[name]
        if name == "title":
            for lang in ("nl", "fr", "de", "en"):
                if old.get(lang) != new.get(lang):
                    _record(
                        session, actor_id, action, contact, "contact", f"title.{lang}",
                        old.get(lang), new.get(lang), confidential=secret,
                    )  # fmt: skip
                    changed.append(f"title.{lang}")
            continue
        if old == new or (action == "create" and not new):
            continue
        confidential = secret and name not in {"visibility", "is_backup"}
        _record(
            session, actor_id, action, contact, "contact", name, old, new, confidential=confidential
        )
        changed.append(name)
    contact.name, contact.title, contact.email = clean["name"], clean["title"], clean["email"]
    contact.languages, contact.visibility = clean["languages"], clean["visibility"]
    contact.is_backup = clean["is_backup"]
    if clean["phone"] is None:
        for phone in list(contact.phones):
            contact.organization.phones.remove(phone)
    elif contact.phones:
        contact.phones[0].number = clean["phone"]
        contact.phones[0].visibility = clean["visibility"]
    else:
        # Into the organisation's phones (and so the session) first, then onto the contact:
        # the other order autoflushes a phone that is not yet in the session.
        phone = Phone(number=clean["phone"], visibility=clean["visibility"])
        contact.organization.phones.append(phone)
        phone.contact = contact
    return changed


def remove_contact_point(session: Session, actor_id: str | None, contact_id: str) -> None:
    """Remove a contact point (and its phone) from its organisation."""
    contact = _contact(session, contact_id)
    organization = contact.organization
    secret = contact.visibility == "secretariat"
    label = contact.name or next(iter((contact.title or {}).values()), None) or contact.email
    _record(session, actor_id, "delete", contact, "contact", old=label, confidential=secret)
    for phone in list(contact.phones):
        organization.phones.remove(phone)
    organization.contacts.remove(contact)
    outbox.enqueue(session, organization.id)
    session.flush()

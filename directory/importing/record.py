"""An organisation as an import-format record: what the JSONL export writes and what an import
compares against before touching anything.
"""

from __future__ import annotations

from typing import Any

from directory.models import Address, Contact, Organization, Phone
from directory.points import main_location, point_for
from directory.visibility import Viewer, can_see, can_see_child


def main_address(organization: Organization) -> Address | None:
    """The address the import format describes (the main location's first one)."""
    location = main_location(organization)
    return location.addresses[0] if location and location.addresses else None


def main_phone(organization: Organization, *, emergency: bool) -> Phone | None:
    """The organisation's own (not a contact point's) phone or emergency line."""
    for phone in organization.phones:
        if phone.contact_id is None and phone.contact is None and phone.is_emergency == emergency:
            return phone
    return None


def contact_phone(contact: Contact) -> Phone | None:
    """The contact point's phone."""
    return contact.phones[0] if contact.phones else None


def contact_role(contact: Contact) -> str | None:
    """The contact point's role as the import format has it (its English title, else any)."""
    title = contact.title or {}
    return title.get("en") or next(iter(title.values()), None)


def organisation_record(organization: Organization, viewer: Viewer | None = None) -> dict[str, Any]:
    """The organisation in the import format; with a viewer, only what that viewer may see."""

    def visible(visibility: str) -> bool:
        return viewer is None or can_see_child(viewer, organization, visibility)

    # The import format carries a point only where it is the exact one the viewer may see: a
    # town centre read back as an organisation's own point would be wrong on the next import.
    point = point_for(viewer, organization, None)
    phone = main_phone(organization, emergency=False)
    emergency = main_phone(organization, emergency=True)
    record: dict[str, Any] = {
        "ref": organization.ref,
        "name": organization.name,
        "alternate_name": organization.alternate_name,
        "description": {
            lang: organization.description[lang]
            for lang in ("nl", "fr", "de", "en")
            if (organization.description or {}).get(lang)
        },
        "country": organization.country,
        "region": organization.region,
        "city": organization.city,
        "lat": point.lat if point is not None and point.is_exact else None,
        "lon": point.lon if point is not None and point.is_exact else None,
        "org_type": organization.org_type,
        "languages": organization.language_codes,
        "exploitation_forms": organization.codes("exploitation_form"),
        "target_groups": organization.codes("target_group"),
        "service_types": organization.codes("service_type"),
        "is_24_7": bool(organization.is_24_7),
        "accepts_cross_border_referrals": bool(organization.accepts_cross_border_referrals),
        "visibility": organization.visibility,
        "address": _address(organization, viewer),
        "website": organization.website,
        "email": organization.email,
        "phone": phone.number if phone and visible(phone.visibility) else None,
        "emergency_phone": emergency.number
        if emergency and visible(emergency.visibility)
        else None,
        "contact_points": [
            _contact_point(contact, viewer)
            for contact in sorted(organization.contacts, key=lambda c: c.position)
            if visible(contact.visibility)
        ],
    }
    return record


def _address(organization: Organization, viewer: Viewer | None) -> dict[str, Any] | None:
    address = main_address(organization)
    location = main_location(organization)
    if address is None or location is None:
        return None
    if viewer is not None:
        # ``not_stored`` keeps only town and postcode; the secretariat's export carries it so
        # that export → import round-trips; nobody else is shown it.
        shown = viewer.is_secretariat or (
            can_see_child(viewer, organization, location.visibility)
            and can_see(viewer, address.visibility)
        )
        if not shown:
            return None
    return {
        "street": address.address_1,
        "postal_code": address.postal_code,
        "city": address.city,
        "visibility": address.visibility,
    }


def _contact_point(contact: Contact, viewer: Viewer | None) -> dict[str, Any]:
    phone = contact_phone(contact)
    phone_shown = phone is not None and (viewer is None or can_see(viewer, phone.visibility))
    return {
        "role": contact_role(contact),
        "email": contact.email,
        "phone": phone.number if phone is not None and phone_shown else None,
        "languages": list(contact.languages or []),
        "visibility": contact.visibility,
    }
